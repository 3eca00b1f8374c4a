package lab

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, and that whatever it accepts
// is consistent: links name known nodes and no interface is used twice.
// Seeds live in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte("name: s\ntopology:\n  nodes:\n    a: {kind: linux}\n    b: {kind: linux}\n  links:\n    - endpoints: [\"a:e1\", \"b:e1\"]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		topo, err := Parse(data, map[string]string{"X": "linux"})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		used := map[string]bool{}
		for _, l := range topo.Links {
			for _, ep := range []Endpoint{l.A, l.B} {
				if _, ok := topo.Node(ep.Node); !ok {
					t.Fatalf("accepted link to unknown node %q", ep.Node)
				}
				if used[ep.String()] {
					t.Fatalf("accepted %s twice", ep)
				}
				used[ep.String()] = true
			}
		}
		for _, n := range topo.Nodes {
			if n.Kind == "" {
				t.Fatalf("accepted node %s without kind", n.Name)
			}
		}
	})
}

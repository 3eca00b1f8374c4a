package main

import (
	"bytes"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/internal/samplekit"
	"github.com/stitchnfv/stitch/internal/samplekit/sktest"
)

func TestHelp(t *testing.T) {
	sktest.RequireHelp(t, run, "-listen", "-data", "/kv/{key}/incr", "STITCH_BINDINGS")
}

func TestUsageErrors(t *testing.T) {
	sktest.RequireUsageErrors(t, run, []string{"--data", "x"})
}

func TestExampleVNFDArgs(t *testing.T) {
	prog, args := sktest.ExampleArgs(t, "../../examples/vnfd/kvdb.yaml", map[string]string{"STITCH_ADDR_DATA": "10.10.1.7"})
	opts, err := parseFlags(args, &bytes.Buffer{})
	if err != nil || prog != "stitch-kvdb" || opts.listen != ":8080" {
		t.Fatalf("%s %q: %+v, %v", prog, args, opts, err)
	}
}

// TestInChain runs stitch-kvdb's run as the chain's database, then
// restarts it on the same data file.
func TestInChain(t *testing.T) {
	data := filepath.Join(t.TempDir(), "kv.json")
	addr := sktest.FreeAddr(t)
	c := sktest.StartChain(t, map[string][]string{"kvdb": {addr}})
	p := sktest.Start(t, "stitch-kvdb", run, addr, []string{"--listen", addr, "--data", data}, c.Env("kvdb", "db-3"))
	entry := "http://" + c.Entry()

	for i := 1; i <= 2; i++ {
		a := sktest.Do(t, http.MethodGet, entry+"/", "")
		hops := samplekit.SplitTrace(a.Header.Get(samplekit.TraceHeader))
		if a.Status != 200 || len(hops) != 5 || hops[4] != "kvdb:db-3" || !strings.Contains(a.Body, fmt.Sprintf(`"visits":%d,`, i)) {
			t.Fatalf("visit %d: %d %v %s", i, a.Status, hops, a.Body)
		}
	}

	kv := "http://" + addr + "/kv/"
	steps := []struct {
		method, path, body string
		status             int
		want               string
	}{
		{http.MethodPut, "greeting", "hello", 204, ""},
		{http.MethodGet, "greeting", "", 200, "hello"},
		{http.MethodPost, "greeting/incr", "", 409, ""},
		{http.MethodPost, "n/incr?by=5", "", 200, `{"key":"n","value":5}`},
		{http.MethodPost, "n/incr?by=x", "", 400, ""},
		{http.MethodDelete, "greeting", "", 204, ""},
		{http.MethodGet, "greeting", "", 404, ""},
		{http.MethodDelete, "greeting", "", 204, ""},
		{http.MethodGet, "visits", "", 200, "2"},
		{http.MethodPatch, "n", "", 405, ""},
	}
	for _, s := range steps {
		a := sktest.Do(t, s.method, kv+s.path, s.body)
		if a.Status != s.status || s.want != "" && strings.TrimSpace(a.Body) != s.want {
			t.Fatalf("%s %s = %d %q, want %d %q", s.method, s.path, a.Status, a.Body, s.status, s.want)
		}
		if a.Header.Get(samplekit.TraceHeader) != "kvdb:db-3" {
			t.Fatalf("%s %s: trace %q", s.method, s.path, a.Header.Get(samplekit.TraceHeader))
		}
	}
	if err := p.Stop(t); err != nil {
		t.Fatalf("stop = %v, want nil", err)
	}

	addr2 := sktest.FreeAddr(t)
	p2 := sktest.Start(t, "stitch-kvdb", run, addr2, []string{"--listen", addr2, "--data", data}, nil)
	for key, want := range map[string]string{"visits": "2", "n": "5"} {
		if a := sktest.Do(t, http.MethodGet, "http://"+addr2+"/kv/"+key, ""); a.Status != 200 || a.Body != want {
			t.Fatalf("after restart %s = %d %q, want %q", key, a.Status, a.Body, want)
		}
	}
	if err := p2.Stop(t); err != nil {
		t.Fatal(err)
	}
}

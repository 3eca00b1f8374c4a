package telemetry

import (
	"fmt"
	"testing"
)

// BenchmarkSet compares a canonical path string (map hit, no parsing) with
// a non-canonical one (parsed and canonicalised on every call).
func BenchmarkSet(b *testing.B) {
	for _, tc := range []struct{ name, path string }{
		{"canonical", "/services/service[name=web]/instances/instance[id=i1]/state/available-slots"},
		{"parsed", "services/service[name=web]/instances/instance[id=i1]/state/available-slots"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tree := NewTree()
			for i := range b.N {
				if err := tree.Set(tc.path, i); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSetWithWatches measures the writer's cost of fan-out to N
// watches nobody drains (the worst case: every push coalesces).
func BenchmarkSetWithWatches(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("watches=%d", n), func(b *testing.B) {
			tree := NewTree()
			for range n {
				w, _ := tree.Watch(MustParsePath("/services"))
				defer w.Close()
			}
			path := "/services/service[name=web]/instances/instance[id=i1]/state/available-slots"
			for i := range b.N {
				if err := tree.Set(path, i); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

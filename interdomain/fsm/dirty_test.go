package fsm

import (
	"fmt"
	"slices"
	"testing"
)

// TestDirtySet: the set lists each service once, sorted, whatever the order
// and repetitions of add; keep leaves exactly what was kept; and repeated
// changes of a few services do not grow it without bound.
func TestDirtySet(t *testing.T) {
	var d dirtySet
	if !d.empty() {
		t.Fatal("zero set not empty")
	}
	for _, s := range []string{"c", "a", "b", "a", "c", "c"} {
		d.add(s)
	}
	if got := d.sorted(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("sorted = %v", got)
	}
	svcs := d.sorted()
	d.keep(append(svcs[:0], "b"))
	d.add("a")
	d.add("b")
	if got := d.sorted(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("after keep and add: %v", got)
	}
	d.clear()
	if !d.empty() || len(d.sorted()) != 0 {
		t.Fatalf("cleared set: %v", d.sorted())
	}
	for i := range 100_000 {
		d.add(fmt.Sprintf("s%d", i%10))
	}
	if n := len(d.svcs); n > 2*10+1024+1 {
		t.Fatalf("10 services changed 100,000 times hold %d entries", n)
	}
	if got := d.sorted(); len(got) != 10 {
		t.Fatalf("sorted = %v", got)
	}
}

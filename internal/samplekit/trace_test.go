package samplekit

import (
	"slices"
	"testing"
)

func TestTrace(t *testing.T) {
	tr := AppendHop("", Hop("fw", "fw-0"))
	tr = AppendHop(tr, Hop("lb", "lb-0"))
	if tr != "fw:fw-0,lb:lb-0" {
		t.Fatalf("trace = %q", tr)
	}
	if got := SplitTrace(" fw:fw-0, lb:lb-0,,"); !slices.Equal(got, []string{"fw:fw-0", "lb:lb-0"}) {
		t.Fatalf("split = %q", got)
	}
	if SplitTrace("") != nil {
		t.Fatal("empty trace has hops")
	}
}

package backend

import (
	"testing"
	"time"
)

func TestParseHold(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "0s": 0, "250ms": 250 * time.Millisecond, "1h": MaxHold} {
		if got, err := parseHold(in); err != nil || got != want {
			t.Errorf("parseHold(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"-1s", "soon", "5"} {
		if _, err := parseHold(in); err == nil {
			t.Errorf("parseHold(%q) accepted", in)
		}
	}
}

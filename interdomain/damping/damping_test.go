package damping

import (
	"testing"
	"time"
)

func TestDamping(t *testing.T) {
	c := RIPE580()
	t0 := time.Unix(0, 0)
	type step struct {
		after time.Duration // since t0
		ev    Event
	}
	tests := []struct {
		name     string
		steps    []step
		suppress bool
	}{
		{"one withdrawal", []step{{0, Withdrawn}}, false},
		{"withdrawal then path hunting", []step{
			{0, Withdrawn}, {time.Second, PathChanged}, {2 * time.Second, PathChanged},
			{3 * time.Second, PathChanged}, {4 * time.Second, PathChanged}, {5 * time.Second, Withdrawn},
		}, false},
		{"six quick flaps", []step{
			{0, Withdrawn}, {time.Minute, Withdrawn}, {2 * time.Minute, Withdrawn},
			{3 * time.Minute, Withdrawn}, {4 * time.Minute, Withdrawn}, {5 * time.Minute, Withdrawn},
			{6 * time.Minute, Withdrawn}, {7 * time.Minute, Withdrawn},
		}, true},
		{"flaps spread over hours", []step{
			{0, Withdrawn}, {time.Hour, Withdrawn}, {2 * time.Hour, Withdrawn},
			{3 * time.Hour, Withdrawn}, {4 * time.Hour, Withdrawn}, {5 * time.Hour, Withdrawn},
			{6 * time.Hour, Withdrawn},
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s State
			var got bool
			for _, st := range tt.steps {
				got = s.Record(c, t0.Add(st.after), st.ev)
			}
			if got != tt.suppress {
				t.Fatalf("suppressed = %v (penalty %.0f), want %v", got, s.penalty, tt.suppress)
			}
		})
	}
}

func TestReuse(t *testing.T) {
	c := RIPE580()
	t0 := time.Unix(0, 0)
	var s State
	for i := range 20 {
		s.Record(c, t0.Add(time.Duration(i)*time.Second), Withdrawn)
	}
	if !s.Suppressed() {
		t.Fatal("not suppressed after 20 flaps")
	}
	at := s.ReuseAt(c)
	// The penalty is capped, so suppression never outlasts MaxSuppress.
	if d := at.Sub(t0.Add(19 * time.Second)); d > c.MaxSuppress+time.Second {
		t.Fatalf("suppressed for %v, more than %v", d, c.MaxSuppress)
	}
	if s.Reuse(c, at.Add(-time.Second)) {
		t.Fatal("reused before ReuseAt")
	}
	if !s.Reuse(c, at) {
		t.Fatalf("not reused at ReuseAt (penalty %.2f)", s.Penalty(c, at))
	}
	if !s.Forgettable(c, at.Add(c.HalfLife+time.Second)) {
		t.Fatal("state not forgettable after decaying")
	}
}

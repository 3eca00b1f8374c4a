package fsm

import (
	"testing"
	"time"
)

// TestSlotRateLimit: small slot moves wait for the slot interval, big ones
// go at once.
func TestSlotRateLimit(t *testing.T) {
	c := config("A", "B")
	c.SlotThreshold = SlotThreshold{Percent: 20, Slots: 5}
	c.SlotInterval = 10 * time.Second
	s, err := New(c)
	must(t, err)
	steps := []struct {
		at    time.Duration
		slots uint32
		want  uint32 // slots in the RIB afterwards
	}{
		{0, 100, 100},
		{time.Second, 110, 100},      // +10 ≤ 20% of 100: wait
		{2 * time.Second, 95, 100},   // still small: wait, pending 95
		{5 * time.Second, 60, 60},    // -40: at once
		{6 * time.Second, 64, 60},    // small: wait
		{16 * time.Second, 64, 64},   // the tick applies it (see below)
		{17 * time.Second, 300, 300}, // big
	}
	for i, st := range steps {
		now := t0.Add(st.at)
		s.Tick(now)
		must(t, s.Announce(now, svc("s", st.slots)))
		r, _ := s.RIB().Local("s")
		if r.Slots != st.want {
			t.Fatalf("step %d: RIB slots %d, want %d", i, r.Slots, st.want)
		}
	}
	// A pending small change is applied by Tick once the interval passed.
	must(t, s.Announce(t0.Add(18*time.Second), svc("s", 290)))
	if d := s.NextDeadline(); !d.Equal(t0.Add(27 * time.Second)) {
		t.Fatalf("deadline %v", d.Sub(t0))
	}
	s.Tick(t0.Add(27 * time.Second))
	if r, _ := s.RIB().Local("s"); r.Slots != 290 {
		t.Fatalf("after tick: %d", r.Slots)
	}
}

func TestWithdrawLocalIsImmediate(t *testing.T) {
	p := newPair(t, nil)
	must(t, p.a.Announce(p.now, svc("s", 1)))
	p.pump()
	must(t, p.a.Announce(p.now, svc("t", 1))) // held by the MRAI
	p.pump()
	if _, ok := p.b.RIB().Best("t"); ok {
		t.Fatal("second announcement not held by the MRAI")
	}
	p.a.Withdraw(p.now, "s")
	p.pump()
	if _, ok := p.b.RIB().Best("s"); ok {
		t.Fatal("withdrawal held by the MRAI")
	}
	p.advance(10 * time.Second)
	if _, ok := p.b.RIB().Best("t"); !ok {
		t.Fatal("announcement not sent after the MRAI")
	}
}

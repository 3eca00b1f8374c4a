package samplekit

import (
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func pickN(t *testing.T, p *Picker, cands []string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		a, done, ok := p.Pick(cands)
		if !ok {
			t.Fatal("nothing picked")
		}
		done()
		got[a]++
	}
	return got
}

func TestPickerRoundRobin(t *testing.T) {
	p := NewPicker(RoundRobin, 0, nil)
	got := pickN(t, p, []string{"a", "b", "c"}, 9)
	for _, a := range []string{"a", "b", "c"} {
		if got[a] != 3 {
			t.Fatalf("picks = %v, want 3 each", got)
		}
	}
	if _, _, ok := p.Pick(nil); ok {
		t.Fatal("picked from nothing")
	}
	if a, _, _ := p.Pick([]string{"a", "b"}, "a"); a != "b" {
		t.Fatalf("exclude ignored: %s", a)
	}
	if _, _, ok := p.Pick([]string{"a"}, "a"); ok {
		t.Fatal("picked an excluded address")
	}
}

func TestPickerSkipsFailedFor2s(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	p := NewPicker(RoundRobin, 2*time.Second, clk.Now)
	cands := []string{"a", "b"}
	p.MarkFailed("a")
	if p.Healthy("a") {
		t.Fatal("a healthy right after failing")
	}
	if got := pickN(t, p, cands, 4); got["a"] != 0 {
		t.Fatalf("picked a failed address: %v", got)
	}
	clk.Advance(2 * time.Second)
	if got := pickN(t, p, cands, 4); got["a"] != 2 {
		t.Fatalf("after 2s a should be back: %v", got)
	}
}

func TestPickerFailsOpen(t *testing.T) {
	p := NewPicker(RoundRobin, time.Minute, nil)
	p.MarkFailed("a")
	p.MarkFailed("b")
	if got := pickN(t, p, []string{"a", "b"}, 2); got["a"]+got["b"] != 2 {
		t.Fatalf("all bad: want a pick anyway, got %v", got)
	}
}

func TestPickerLeastConn(t *testing.T) {
	p := NewPicker(LeastConn, 0, nil)
	cands := []string{"a", "b", "c"}
	a1, doneA, _ := p.Pick(cands)
	b1, _, _ := p.Pick(cands)
	if a1 == b1 {
		t.Fatalf("two picks on one idle set went to %s twice", a1)
	}
	// Two busy: the third must be the idle one, every time.
	c1, doneC, _ := p.Pick(cands)
	if c1 == a1 || c1 == b1 {
		t.Fatalf("least-conn picked busy %s", c1)
	}
	doneC()
	doneC() // idempotent
	for range 3 {
		got, done, _ := p.Pick(cands)
		if got != c1 {
			t.Fatalf("least-conn picked %s, want idle %s", got, c1)
		}
		done()
	}
	doneA()
	got, _, _ := p.Pick(cands)
	if got != a1 && got != c1 {
		t.Fatalf("least-conn picked busy %s", got)
	}
}

func TestPickerConcurrent(t *testing.T) {
	p := NewPicker(LeastConn, 0, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 200 {
				a, done, _ := p.Pick([]string{"a", "b", "c"})
				if i%3 == 0 {
					p.MarkFailed(a)
				}
				done()
			}
		})
	}
	wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.active) != 0 {
		t.Fatalf("in-flight counts leaked: %v", p.active)
	}
}

func TestParsePolicy(t *testing.T) {
	for _, s := range []string{"round-robin", "least-conn"} {
		if _, err := ParsePolicy(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := ParsePolicy("random"); err == nil {
		t.Error("random accepted")
	}
}

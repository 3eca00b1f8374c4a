package slots

import (
	"sync"
	"testing"
)

func TestBudget(t *testing.T) {
	s := New(2)
	r1, ok1 := s.Acquire()
	r2, ok2 := s.Acquire()
	_, ok3 := s.Acquire()
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("acquire = %v %v %v, want true true false", ok1, ok2, ok3)
	}
	if got := s.Snapshot(); got.Max != 2 || got.Available != 0 || got.InUse != 2 || got.Seq != 2 {
		t.Fatalf("snapshot = %+v", got)
	}
	r1()
	r1() // a second release must not free another slot
	if s.Available() != 1 || s.InUse() != 1 {
		t.Fatalf("after release: %+v", s.Snapshot())
	}
	r2()
	if s.Available() != 2 {
		t.Fatalf("after all released: %+v", s.Snapshot())
	}
}

func TestBudgetSetMax(t *testing.T) {
	s := New(3)
	var rel []func()
	for range 3 {
		r, _ := s.Acquire()
		rel = append(rel, r)
	}
	// Lowered below the sessions in flight: they keep running, none starts.
	s.SetMax(1)
	if got := s.Snapshot(); got.Max != 1 || got.Available != 0 || got.InUse != 3 {
		t.Fatalf("snapshot = %+v", got)
	}
	rel[0]()
	rel[1]()
	if _, ok := s.Acquire(); ok {
		t.Fatal("acquired with 1 in use of 1")
	}
	rel[2]()
	if _, ok := s.Acquire(); !ok {
		t.Fatal("no slot with 0 in use of 1")
	}
	s.SetMax(-5)
	if s.Max() != 0 {
		t.Fatalf("max = %d, want 0", s.Max())
	}
	if New(-1).Max() != 0 {
		t.Fatal("negative budget kept")
	}
}

func TestBudgetConcurrent(t *testing.T) {
	const budget = 5
	s := New(budget)
	var wg sync.WaitGroup
	var mu sync.Mutex
	held, peak := 0, 0
	for i := range 16 {
		wg.Go(func() {
			for j := range 300 {
				if i == 0 && j%50 == 0 {
					s.SetMax(budget)
				}
				r, ok := s.Acquire()
				if !ok {
					continue
				}
				mu.Lock()
				held++
				peak = max(peak, held)
				mu.Unlock()
				_ = s.Snapshot()
				mu.Lock()
				held--
				mu.Unlock()
				r()
			}
		})
	}
	wg.Wait()
	if peak > budget {
		t.Fatalf("peak sessions %d > max %d", peak, budget)
	}
	if got := s.Snapshot(); got.Max != budget || got.Available != budget || got.InUse != 0 {
		t.Fatalf("leak: %+v", got)
	}
}

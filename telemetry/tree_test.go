package telemetry

import (
	"sync"
	"testing"
	"time"
)

// fakeClock advances one second per reading, so each Apply has its own time.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func newTestTree() (*Tree, *fakeClock) {
	c := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	return NewTree(WithClock(c.now)), c
}

func TestSetTypesAndTimestamps(t *testing.T) {
	tree, _ := newTestTree()
	sets := []struct {
		path string
		v    any
		want Value
	}{
		{"/a/int", 7, Int(7)},
		{"/a/int8", int8(-3), Int(-3)},
		{"/a/uint", uint32(9), Uint(9)},
		{"/a/float", float32(0.5), Float(0.5)},
		{"/a/string", "up", String("up")},
		{"/a/bool", true, Bool(true)},
		{"/a/value", Uint(1), Uint(1)},
	}
	for _, s := range sets {
		if err := tree.Set(s.path, s.v); err != nil {
			t.Fatalf("Set(%s, %v): %v", s.path, s.v, err)
		}
		got := tree.Get(MustParsePath(s.path))
		if len(got) != 1 || got[0].Value != s.want {
			t.Errorf("Get(%s) = %v, want %v", s.path, got, s.want)
		}
	}

	before := tree.Get(MustParsePath("/a/int"))[0]
	if err := tree.Set("/a/int", 7); err != nil {
		t.Fatal(err)
	}
	same := tree.Get(MustParsePath("/a/int"))[0]
	if same.Timestamp != before.Timestamp || same.Version != before.Version {
		t.Errorf("an equal Set moved the leaf: %+v → %+v", before, same)
	}
	if err := tree.Set("/a/int", 8); err != nil {
		t.Fatal(err)
	}
	after := tree.Get(MustParsePath("/a/int"))[0]
	if !after.Timestamp.After(before.Timestamp) || after.Version <= before.Version {
		t.Errorf("a change did not move timestamp and version: %+v → %+v", before, after)
	}
}

func TestSetRejects(t *testing.T) {
	tree, _ := newTestTree()
	for _, tc := range []struct {
		path string
		v    any
	}{
		{"/a/b", []int{1}},
		{"/a/*", 1},
		{"/a/.../b", 1},
		{"/", 1},
		{"/a[k=v", 1},
		{"/a/b", Value{}},
	} {
		if err := tree.Set(tc.path, tc.v); err == nil {
			t.Errorf("Set(%q, %v) succeeded", tc.path, tc.v)
		}
	}
	if tree.Len() != 0 {
		t.Errorf("rejected sets left %d leaves", tree.Len())
	}
}

func TestApplyIsAllOrNothing(t *testing.T) {
	tree, _ := newTestTree()
	err := tree.Apply(SetOp("/x/a", 1), SetOp("/x/b", struct{}{}))
	if err == nil {
		t.Fatal("Apply with a bad op succeeded")
	}
	if tree.Len() != 0 {
		t.Errorf("a failed Apply changed the tree: %v", tree.Get(Path{}))
	}
	if err := tree.Apply(SetOp("/x/a", 1), SetOp("/x/b", 2)); err != nil {
		t.Fatal(err)
	}
	got := tree.Get(MustParsePath("/x"))
	if len(got) != 2 || got[0].Timestamp != got[1].Timestamp {
		t.Errorf("one Apply should share one timestamp: %+v", got)
	}
}

func TestDeleteSubtree(t *testing.T) {
	tree, _ := newTestTree()
	for _, p := range []string{
		"/services/service[name=web]/instances/instance[id=i1]/state/available-slots",
		"/services/service[name=web]/instances/instance[id=i1]/state/oper-status",
		"/services/service[name=web]/instances/instance[id=i2]/state/available-slots",
	} {
		if err := tree.Set(p, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := tree.Delete("/services/service[name=web]/instances/instance[id=i1]"); err != nil {
		t.Fatal(err)
	}
	got := tree.Get(Path{})
	if len(got) != 1 || got[0].Key != "/services/service[name=web]/instances/instance[id=i2]/state/available-slots" {
		t.Errorf("after delete: %v", got)
	}
	if err := tree.Delete("/nothing/here"); err != nil {
		t.Errorf("deleting an absent path: %v", err)
	}
}

func TestGetSortedAndCanonicalLookup(t *testing.T) {
	tree, _ := newTestTree()
	_ = tree.Set("/b[y=2][x=1]/v", 1)
	_ = tree.Set("/a/v", 2)
	got := tree.Get(MustParsePath("/b[x=1][y=2]/v"))
	if len(got) != 1 {
		t.Fatalf("key order should not matter: %v", got)
	}
	// Setting through a non-canonical spelling updates the same leaf.
	_ = tree.Set("/b[x=1][y=2]/v", 3)
	all := tree.Get(MustParsePath("/..."))
	if len(all) != 2 || all[0].Key != "/a/v" || all[1].Value != Int(3) {
		t.Errorf("Get(/...) = %v", all)
	}
}

func TestWatchCoalescesAndOrders(t *testing.T) {
	tree, _ := newTestTree()
	_ = tree.Set("/s/a", 0)
	w, snap := tree.Watch(MustParsePath("/s"))
	defer w.Close()
	if len(snap) != 1 || snap[0].Value != Int(0) {
		t.Fatalf("snapshot = %v", snap)
	}
	_ = tree.Set("/s/a", 1)
	_ = tree.Set("/s/b", 1)
	_ = tree.Set("/s/a", 2)
	_ = tree.Set("/s/a", 3)
	_ = tree.Set("/other", 1) // not watched
	_ = tree.Delete("/s/b")

	select {
	case <-w.Ready():
	default:
		t.Fatal("watch not signalled")
	}
	got := w.Drain()
	if len(got) != 2 {
		t.Fatalf("Drain = %+v, want 2 changes", got)
	}
	if got[0].Leaf.Key != "/s/a" || got[0].Leaf.Value != Int(3) || got[0].Coalesced != 2 || got[0].Deleted {
		t.Errorf("first change = %+v, want /s/a=3 with 2 coalesced", got[0])
	}
	if got[1].Leaf.Key != "/s/b" || !got[1].Deleted || got[1].Coalesced != 1 {
		t.Errorf("second change = %+v, want delete of /s/b", got[1])
	}
	if w.Coalesced() != 3 {
		t.Errorf("Coalesced() = %d, want 3", w.Coalesced())
	}
	if again := w.Drain(); len(again) != 0 {
		t.Errorf("second Drain = %v", again)
	}

	w.Close()
	_ = tree.Set("/s/a", 4)
	if got := w.Drain(); len(got) != 0 {
		t.Errorf("closed watch received %v", got)
	}
}

func TestConcurrentSetAndWatch(t *testing.T) {
	tree := NewTree()
	w, _ := tree.Watch(MustParsePath("/c"))
	defer w.Close()
	const writers, perWriter = 4, 500
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perWriter {
				if err := tree.Set("/c/n"+string(rune('a'+i)), j); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	last := map[string]Value{}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for finished := false; !finished; {
		select {
		case <-w.Ready():
		case <-done:
			finished = true
		}
		for _, c := range w.Drain() {
			last[c.Leaf.Key] = c.Leaf.Value
		}
	}
	for i := range writers {
		key := "/c/n" + string(rune('a'+i))
		if last[key] != Int(perWriter-1) {
			t.Errorf("%s: last delivered %v, want %d", key, last[key], perWriter-1)
		}
	}
}

package userspace

import "testing"

// The connection table is bounded and evicts the least recently used
// entry; a lookup refreshes.
func TestLRU(t *testing.T) {
	l := newLRU(3)
	k := func(i uint16) *flowKey { return &flowKey{sport: i, proto: protoTCP} }
	for i := uint16(1); i <= 3; i++ {
		l.put(k(i), uint32(i))
	}
	if _, ok := l.get(k(1)); !ok {
		t.Fatal("entry 1 missing")
	}
	l.put(k(4), 4) // evicts 2, the least recent
	if _, ok := l.peek(*k(2)); ok || l.len() != 3 {
		t.Fatalf("entry 2 not evicted (len %d)", l.len())
	}
	l.put(k(3), 30)
	if v, _ := l.peek(*k(3)); v != 30 {
		t.Fatalf("entry 3 = %d", v)
	}
	l.put(k(5), 5) // evicts 1
	for i, want := range map[uint16]bool{1: false, 3: true, 4: true, 5: true} {
		if _, ok := l.peek(*k(i)); ok != want {
			t.Errorf("entry %d present %v", i, ok)
		}
	}
}

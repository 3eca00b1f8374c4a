package telemetry

import (
	"sync"
	"sync/atomic"
)

// Change is one leaf update or deletion delivered by a Watch.
type Change struct {
	Leaf    Leaf
	Deleted bool
	// Coalesced counts the earlier changes of this leaf that this one
	// replaced while the consumer was not draining (gNMI's "duplicates").
	Coalesced uint32
}

// Watch receives the changes to the leaves its patterns select. Changes wait
// in a queue holding at most one entry per leaf: a newer change of the same
// leaf replaces the pending one (latest value wins), which keeps the queue
// bounded by the number of watched leaves and never blocks the writer. That
// is exactly the semantics of gNMI ON_CHANGE: a client sees every state the
// target had time to send, and always the latest one.
type Watch struct {
	tree     *Tree
	patterns []Path
	ready    chan struct{}

	mu      sync.Mutex
	queue   []Change
	index   map[string]int // leaf key → position in queue
	closed  bool
	dropped atomic.Uint64 // changes replaced before delivery
}

// Watch registers patterns and returns the watch together with a snapshot
// of the leaves they select at that instant. Taking both under one lock
// means a change is either in the snapshot or delivered by the watch, never
// lost and never out of order. Close the watch when done.
func (t *Tree) Watch(patterns ...Path) (*Watch, []Leaf) {
	w := &Watch{
		tree:     t,
		patterns: patterns,
		ready:    make(chan struct{}, 1),
		index:    make(map[string]int),
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.watches[w] = struct{}{}
	return w, t.getLocked(patterns)
}

func (w *Watch) matches(p Path) bool {
	for _, pat := range w.patterns {
		if pat.Matches(p) {
			return true
		}
	}
	return false
}

// push is called with the tree locked; it must never block.
func (w *Watch) push(c Change) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	if i, ok := w.index[c.Leaf.Key]; ok {
		c.Coalesced = w.queue[i].Coalesced + 1
		w.queue[i] = c
		w.dropped.Add(1)
	} else {
		w.index[c.Leaf.Key] = len(w.queue)
		w.queue = append(w.queue, c)
	}
	w.mu.Unlock()
	select {
	case w.ready <- struct{}{}:
	default: // already signalled; the consumer will drain everything
	}
}

// Ready is signalled (capacity one) whenever changes are pending.
func (w *Watch) Ready() <-chan struct{} { return w.ready }

// Drain returns the pending changes in the order their leaves first changed
// since the last Drain, and empties the queue.
func (w *Watch) Drain() []Change {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queue
	w.queue = nil
	clear(w.index)
	return q
}

// Coalesced is how many changes were replaced by a newer change of the same
// leaf before the consumer drained them.
func (w *Watch) Coalesced() uint64 { return w.dropped.Load() }

// Close unregisters the watch. Pending changes are discarded.
func (w *Watch) Close() {
	w.tree.mu.Lock()
	delete(w.tree.watches, w)
	w.tree.mu.Unlock()
	w.mu.Lock()
	w.closed = true
	w.queue = nil
	w.mu.Unlock()
}

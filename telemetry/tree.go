package telemetry

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Leaf is a snapshot of one value in the tree.
type Leaf struct {
	Path Path
	// Key is Path's canonical string, unique per leaf.
	Key   string
	Value Value
	// Timestamp is when the value last changed (a Set with an equal value
	// does not move it), so a collector can tell stale from fresh.
	Timestamp time.Time
	// Version increases with every change anywhere in the tree; comparing it
	// is how samplers tell "changed since I last sent it" cheaply.
	Version uint64
}

// Op is one change for Apply: build it with SetOp or DeleteOp.
type Op struct {
	path   string
	value  any
	delete bool
}

// SetOp sets the leaf at path (string form, see ParsePath) to v.
func SetOp(path string, v any) Op { return Op{path: path, value: v} }

// DeleteOp removes the node at path and every leaf beneath it.
func DeleteOp(path string) Op { return Op{path: path, delete: true} }

// TreeOption configures NewTree.
type TreeOption func(*Tree)

// WithClock replaces time.Now, for deterministic tests and simulations.
func WithClock(now func() time.Time) TreeOption { return func(t *Tree) { t.now = now } }

// Tree holds the leaves. It is safe for concurrent use; the zero value is not
// usable, call NewTree.
type Tree struct {
	now func() time.Time

	mu      sync.RWMutex
	leaves  map[string]*Leaf
	watches map[*Watch]struct{}
	version uint64
}

// NewTree returns an empty tree.
func NewTree(opts ...TreeOption) *Tree {
	t := &Tree{
		now:     time.Now,
		leaves:  make(map[string]*Leaf),
		watches: make(map[*Watch]struct{}),
	}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Set sets the leaf at path to v (see ValueOf for the accepted types).
func (t *Tree) Set(path string, v any) error { return t.Apply(SetOp(path, v)) }

// Delete removes the node at path and all leaves beneath it, for example an
// instance that was removed. Deleting a path that holds nothing is not an
// error.
func (t *Tree) Delete(path string) error { return t.Apply(DeleteOp(path)) }

// Apply performs ops atomically with one timestamp: watchers and Get see all
// of them or none. If any op is invalid nothing is changed.
func (t *Tree) Apply(ops ...Op) error {
	type prepared struct {
		key   string
		path  Path
		value Value
	}
	prep := make([]prepared, len(ops))
	for i, op := range ops {
		// Hot path: a caller that reuses canonical path strings skips
		// parsing entirely; the lookup happens under the lock below.
		prep[i].key = op.path
		if !op.delete {
			v, err := ValueOf(op.value)
			if err != nil {
				return fmt.Errorf("set %s: %w", op.path, err)
			}
			prep[i].value = v
		}
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	for i, op := range ops {
		if !op.delete {
			if _, ok := t.leaves[op.path]; ok {
				continue
			}
		}
		p, err := ParsePath(op.path)
		if err == nil {
			err = p.Validate()
		}
		if err == nil && !op.delete && (len(p) == 0 || p.HasWildcards()) {
			err = fmt.Errorf("a leaf path must be non-empty and without wildcards")
		}
		if err != nil {
			return fmt.Errorf("telemetry: %s %q: %w", opName(op), op.path, err)
		}
		prep[i].path = p
		prep[i].key = p.String()
	}

	now := t.now()
	for i, op := range ops {
		if op.delete {
			t.deleteLocked(prep[i].path, now)
			continue
		}
		t.setLocked(prep[i].key, prep[i].path, prep[i].value, now)
	}
	return nil
}

func opName(op Op) string {
	if op.delete {
		return "delete"
	}
	return "set"
}

func (t *Tree) setLocked(key string, p Path, v Value, now time.Time) {
	l, ok := t.leaves[key]
	if ok && l.Value == v {
		return
	}
	t.version++
	if !ok {
		if p == nil {
			// The key came from the map (canonical) and was deleted
			// earlier in this same Apply, so it parses.
			p, _ = ParsePath(key)
		}
		l = &Leaf{Path: p, Key: key}
		t.leaves[key] = l
	}
	l.Value, l.Timestamp, l.Version = v, now, t.version
	t.notifyLocked(*l, false)
}

func (t *Tree) deleteLocked(p Path, now time.Time) {
	if !p.HasWildcards() {
		if l, ok := t.leaves[p.String()]; ok {
			t.removeLocked(l, now)
			return
		}
	}
	for _, l := range t.leaves {
		if p.Matches(l.Path) {
			t.removeLocked(l, now)
		}
	}
}

func (t *Tree) removeLocked(l *Leaf, now time.Time) {
	delete(t.leaves, l.Key)
	t.version++
	gone := *l
	gone.Timestamp, gone.Version = now, t.version
	t.notifyLocked(gone, true)
}

func (t *Tree) notifyLocked(l Leaf, deleted bool) {
	for w := range t.watches {
		if w.matches(l.Path) {
			w.push(Change{Leaf: l, Deleted: deleted})
		}
	}
}

// Get returns copies of the leaves that any of the patterns select, sorted by
// Key. With no patterns it returns nothing.
func (t *Tree) Get(patterns ...Path) []Leaf {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.getLocked(patterns)
}

func (t *Tree) getLocked(patterns []Path) []Leaf {
	var out []Leaf
	// An exact leaf path is a map lookup; only patterns and containers need
	// the scan.
	if len(patterns) == 1 && !patterns[0].HasWildcards() {
		if l, ok := t.leaves[patterns[0].String()]; ok {
			return []Leaf{*l}
		}
	}
	for _, l := range t.leaves {
		for _, p := range patterns {
			if p.Matches(l.Path) {
				out = append(out, *l)
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b Leaf) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

// Len returns the number of leaves.
func (t *Tree) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.leaves)
}

package maglev

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

const (
	// DefaultSize is the smallest allowed table size: with 100 backends
	// each one holds about 655 entries, so shares are exact to 0.15 %.
	DefaultSize = 65537
	// MinSize is the smallest table size Build and Update accept.
	MinSize = DefaultSize
	// MaxSize keeps every entry reachable by a 32-bit flow hash.
	MaxSize = 1<<32 - 5 // the largest prime below 2^32
	// NoBackend marks an entry without a backend: every weight is 0.
	NoBackend = ^uint32(0)
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("maglev: invalid input")

// Backend is one candidate for new flows.
type Backend struct {
	Index  uint32 // what the table stores; unique, not NoBackend
	Key    string // stable name; its hashes fix the preference order
	Weight uint32 // share of new flows; 0 = none (free slots are counts)
}

// Table maps entry i to the index of the backend that receives the flows
// whose hash is i modulo len(Table). It is the array the XDP program reads.
type Table []uint32

// Lookup returns the backend index for a flow hash, NoBackend for an
// empty table.
func Lookup(t Table, hash uint32) uint32 {
	if len(t) == 0 {
		return NoBackend
	}
	return t[uint64(hash)%uint64(len(t))]
}

// Build returns a fresh table of the given size for the backends.
func Build(size int, backends []Backend) (Table, error) {
	if err := checkSize(size); err != nil {
		return nil, err
	}
	empty := make(Table, size)
	for i := range empty {
		empty[i] = NoBackend
	}
	t, _, err := Update(empty, backends)
	return t, err
}

// Update returns a new table for the backends that changes as few entries
// of prev as exact shares allow, and the sorted positions of the entries
// that changed (what to write into the kernel's map). prev is not
// modified. Entries of prev whose backend is absent count as free.
func Update(prev Table, backends []Backend) (Table, []uint32, error) {
	if err := checkSize(len(prev)); err != nil {
		return nil, nil, err
	}
	bs, err := sorted(backends)
	if err != nil {
		return nil, nil, err
	}
	m := uint64(len(prev))
	weights := make([]uint32, len(bs))
	perms := make([]perm, len(bs))
	pos := newPositions(bs)
	for i, b := range bs {
		weights[i] = b.Weight
		perms[i] = newPerm(b.Key, m)
	}
	quota := apportion(m, weights)

	next := slices.Clone(prev)
	have := make([]uint64, len(bs))
	for e, idx := range next {
		if i, ok := pos.of(idx); ok && quota[i] > 0 {
			have[i]++
		} else {
			next[e] = NoBackend
		}
	}
	release(next, pos, perms, have, quota)
	claim(next, bs, perms, have, quota)

	var changed []uint32
	for e := range next {
		if next[e] != prev[e] {
			changed = append(changed, uint32(e))
		}
	}
	return next, changed, nil
}

// release frees the least preferred entries of every backend above quota.
func release(t Table, pos positions, perms []perm, have, quota []uint64) {
	var over []int
	for i := range have {
		if have[i] > quota[i] {
			over = append(over, i)
		}
	}
	if len(over) == 0 {
		return
	}
	// Ranks in the owner's preference order: releasing the highest ranks
	// keeps each backend on the entries it prefers most.
	ranks := make([][]uint64, len(have))
	for _, i := range over {
		ranks[i] = make([]uint64, 0, have[i])
	}
	for e, idx := range t {
		if i, ok := pos.of(idx); ok && ranks[i] != nil {
			ranks[i] = append(ranks[i], perms[i].rank(uint64(e)))
		}
	}
	for _, i := range over {
		selectSmallest(ranks[i], int(quota[i]))
		for _, r := range ranks[i][quota[i]:] {
			t[perms[i].at(r)] = NoBackend
		}
		have[i] = quota[i]
	}
}

// claim lets backends below quota take turns claiming their next preferred
// free entry. The free entries are exactly the missing quota, so every
// turn finds one; each backend's cursor only moves forward, so the work is
// bounded by M per backend and is about M·ln(free) in practice.
func claim(t Table, bs []Backend, perms []perm, have, quota []uint64) {
	var active []int
	for i := range bs {
		if have[i] < quota[i] {
			active = append(active, i)
		}
	}
	cursor := make([]uint64, len(bs))
	for len(active) > 0 {
		keep := active[:0]
		for _, i := range active {
			for {
				e := perms[i].at(cursor[i])
				cursor[i]++
				if t[e] == NoBackend {
					t[e] = bs[i].Index
					have[i]++
					break
				}
			}
			if have[i] < quota[i] {
				keep = append(keep, i)
			}
		}
		active = keep
	}
}

// checkSize validates a table size.
func checkSize(size int) error {
	switch {
	case size < MinSize:
		return fmt.Errorf("%w: table size %d is below %d", ErrInvalid, size, MinSize)
	case uint64(size) > MaxSize:
		return fmt.Errorf("%w: table size %d is above %d", ErrInvalid, size, uint64(MaxSize))
	case !isPrime(uint64(size)):
		return fmt.Errorf("%w: table size %d is not prime", ErrInvalid, size)
	}
	return nil
}

// sorted validates backends and returns them ordered by index, so that the
// table depends on the set of backends and not on the order given.
func sorted(backends []Backend) ([]Backend, error) {
	bs := slices.Clone(backends)
	slices.SortFunc(bs, func(a, b Backend) int { return cmp.Compare(a.Index, b.Index) })
	keys := make(map[string]uint32, len(bs))
	for i, b := range bs {
		switch {
		case b.Index == NoBackend:
			return nil, fmt.Errorf("%w: backend %q: index %d is reserved for NoBackend", ErrInvalid, b.Key, b.Index)
		case b.Key == "":
			return nil, fmt.Errorf("%w: backend %d: empty key", ErrInvalid, b.Index)
		case i > 0 && bs[i-1].Index == b.Index:
			return nil, fmt.Errorf("%w: backends %q and %q share index %d", ErrInvalid, bs[i-1].Key, b.Key, b.Index)
		}
		if other, dup := keys[b.Key]; dup {
			return nil, fmt.Errorf("%w: backends %d and %d share key %q (identical preference orders)", ErrInvalid, other, b.Index, b.Key)
		}
		keys[b.Key] = b.Index
	}
	return bs, nil
}

// Quotas returns how many entries each backend, in the order given,
// holds in any table of the given size that Build or Update makes for
// these backends: its share of M by weight, to within one entry.
func Quotas(size int, backends []Backend) ([]int, error) {
	if err := checkSize(size); err != nil {
		return nil, err
	}
	bs, err := sorted(backends)
	if err != nil {
		return nil, err
	}
	weights := make([]uint32, len(bs))
	for i, b := range bs {
		weights[i] = b.Weight
	}
	q := apportion(uint64(size), weights)
	byIndex := make(map[uint32]int, len(bs))
	for i, b := range bs {
		byIndex[b.Index] = int(q[i])
	}
	out := make([]int, len(backends))
	for i, b := range backends {
		out[i] = byIndex[b.Index]
	}
	return out, nil
}

// Counts returns how many entries each backend holds (its share of new
// flows is the count divided by len(t)); NoBackend entries are not counted.
func Counts(t Table) map[uint32]int {
	c := make(map[uint32]int)
	for _, idx := range t {
		if idx != NoBackend {
			c[idx]++
		}
	}
	return c
}

package maglev

// positions maps a backend index to its position in the sorted backend
// list. Updates look up every table entry, so when indices are small (the
// usual case: instance slots of one service) a dense slice replaces the
// map, which halves the update time.
type positions struct {
	dense  []int32 // dense[index] = position+1, 0 = absent
	sparse map[uint32]int
}

// denseLimit bounds the dense slice to a small multiple of the backends.
func denseLimit(n int) uint32 { return uint32(4*n + 1024) }

func newPositions(bs []Backend) positions {
	if len(bs) > 0 && bs[len(bs)-1].Index < denseLimit(len(bs)) { // bs is sorted
		d := make([]int32, bs[len(bs)-1].Index+1)
		for i, b := range bs {
			d[b.Index] = int32(i + 1)
		}
		return positions{dense: d}
	}
	s := make(map[uint32]int, len(bs))
	for i, b := range bs {
		s[b.Index] = i
	}
	return positions{sparse: s}
}

func (p positions) of(idx uint32) (int, bool) {
	if p.dense != nil || p.sparse == nil {
		if uint64(idx) < uint64(len(p.dense)) && p.dense[idx] > 0 {
			return int(p.dense[idx]) - 1, true
		}
		return 0, false
	}
	i, ok := p.sparse[idx]
	return i, ok
}

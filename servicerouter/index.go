package servicerouter

// indexAllocator hands out the smallest free index below max, so that
// backend and VIP ids stay small and are reused after a delete.
type indexAllocator struct {
	max  uint32
	next uint32
	free []uint32
}

func (a *indexAllocator) take() (uint32, bool) {
	if n := len(a.free); n > 0 {
		i := a.free[n-1]
		a.free = a.free[:n-1]
		return i, true
	}
	if a.next >= a.max {
		return 0, false
	}
	a.next++
	return a.next - 1, true
}

func (a *indexAllocator) put(i uint32) { a.free = append(a.free, i) }

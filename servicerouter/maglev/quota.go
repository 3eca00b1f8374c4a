package maglev

import (
	"cmp"
	"math/bits"
	"slices"
)

// apportion splits m entries in proportion to weights with the
// largest-remainder (Hamilton) method: everyone gets floor(m·w/W), and the
// entries left over go to the largest remainders, ties to the lower
// position so the result is deterministic. Each quota is within one of
// m·w/W and they sum to m, or all are 0 when every weight is 0.
func apportion(m uint64, weights []uint32) []uint64 {
	q := make([]uint64, len(weights))
	var total uint64
	for _, w := range weights {
		total += uint64(w)
	}
	if total == 0 {
		return q
	}
	rem := make([]uint64, len(weights))
	left := m
	for i, w := range weights {
		// m·w can exceed 2^64 only in theory (m < 2^32, w < 2^32), but the
		// 128-bit product costs nothing and keeps the division exact.
		hi, lo := bits.Mul64(m, uint64(w))
		q[i], rem[i] = bits.Div64(hi, lo, total)
		left -= q[i]
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rem[b], rem[a]) })
	for _, i := range order[:left] {
		q[i]++
	}
	return q
}

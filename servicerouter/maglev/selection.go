package maglev

// selectSmallest reorders a so that a[:k] holds its k smallest values, in
// no particular order (quickselect, Hoare partition, median-of-three
// pivot). Updates release the least preferred entries of shrinking
// backends; a full sort of their ranks dominated the update time.
// Ranks are pseudo-random, so the quadratic worst case does not arise.
func selectSmallest(a []uint64, k int) {
	lo, hi := 0, len(a)
	for k > lo && k < hi && hi-lo > 1 {
		p := median3(a[lo], a[lo+(hi-lo)/2], a[hi-1])
		i, j := lo, hi-1
		for i <= j {
			for a[i] < p {
				i++
			}
			for a[j] > p {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		// Now a[lo:j+1] ≤ p ≤ a[i:hi] and a[j+1:i] == p.
		switch {
		case k <= j:
			hi = j + 1
		case k >= i:
			lo = i
		default:
			return
		}
	}
}

func median3(a, b, c uint64) uint64 {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	return max(a, b)
}

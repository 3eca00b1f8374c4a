package maglev

import "hash/fnv"

// Seeds that split one key hash into the two independent Maglev hashes.
const (
	offsetSeed = 0x9e3779b97f4a7c15
	skipSeed   = 0xc2b2ae3d27d4eb4f
)

// perm is a backend's preference order over the M entries of a table:
// entry(j) = (offset + j·skip) mod M for j = 0, 1, … M−1.
type perm struct {
	m, offset, skip, inv uint64 // inv·skip ≡ 1 (mod m), to rank an entry
}

func newPerm(key string, m uint64) perm {
	h := fnv.New64a()
	h.Write([]byte(key)) // never fails
	k := h.Sum64()
	skip := mix(k^skipSeed)%(m-1) + 1
	return perm{
		m:      m,
		offset: mix(k^offsetSeed) % m,
		skip:   skip,
		inv:    powMod(skip, m-2, m), // Fermat: m is prime
	}
}

// at returns the j-th preferred entry. m < 2^32, so j·skip < 2^64.
func (p perm) at(j uint64) uint64 { return (p.offset + j*p.skip) % p.m }

// rank returns j such that at(j) == e: how preferred entry e is (0 = most).
func (p perm) rank(e uint64) uint64 { return (e + p.m - p.offset) % p.m * p.inv % p.m }

// mix is the SplitMix64 finaliser: FNV alone leaves similar names
// ("web-1", "web-2") with correlated low bits.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// powMod computes b^e mod m for m < 2^32 (products stay below 2^64).
func powMod(b, e, m uint64) uint64 {
	r := uint64(1)
	b %= m
	for ; e > 0; e >>= 1 {
		if e&1 == 1 {
			r = r * b % m
		}
		b = b * b % m
	}
	return r
}

// isPrime is trial division; sizes are below 2^32 so at most 2^16 steps.
func isPrime(n uint64) bool {
	if n < 2 {
		return false
	}
	if n%2 == 0 {
		return n == 2
	}
	for d := uint64(3); d*d <= n; d += 2 {
		if n%d == 0 {
			return false
		}
	}
	return true
}

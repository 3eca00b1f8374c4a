package maglev

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// backends returns n backends with the given weights (index i, key "inst-i").
func backends(weights ...uint32) []Backend {
	bs := make([]Backend, len(weights))
	for i, w := range weights {
		bs[i] = Backend{Index: uint32(i), Key: fmt.Sprintf("inst-%d", i), Weight: w}
	}
	return bs
}

// randomWeights draws n slot counts, some zero, some huge.
func randomWeights(r *rand.Rand, n int) []uint32 {
	w := make([]uint32, n)
	for i := range w {
		switch r.IntN(10) {
		case 0:
			w[i] = 0
		case 1:
			w[i] = 1
		default:
			w[i] = uint32(r.IntN(500))
		}
	}
	return w
}

// checkShares fails unless every backend holds floor or ceil of its exact
// share M·w/W and the quotas cover the table.
func checkShares(t *testing.T, tab Table, bs []Backend) {
	t.Helper()
	var total uint64
	for _, b := range bs {
		total += uint64(b.Weight)
	}
	counts := Counts(tab)
	if total == 0 {
		if len(counts) != 0 {
			t.Fatalf("all weights 0 but table holds %v", counts)
		}
		return
	}
	m := uint64(len(tab))
	sum := 0
	for _, b := range bs {
		c := uint64(counts[b.Index])
		sum += counts[b.Index]
		lo := m * uint64(b.Weight) / total // floor; m·w fits in 64 bits here
		hi := lo
		if m*uint64(b.Weight)%total != 0 {
			hi++
		}
		if c < lo || c > hi {
			t.Fatalf("backend %d weight %d: %d entries, want %d..%d", b.Index, b.Weight, c, lo, hi)
		}
	}
	if sum != len(tab) {
		t.Fatalf("backends hold %d of %d entries", sum, len(tab))
	}
}

func TestBuildSharesExact(t *testing.T) {
	tests := []struct {
		name    string
		weights []uint32
	}{
		{"equal", []uint32{1, 1, 1}},
		{"slots 10/50/200", []uint32{10, 10, 50, 50, 200, 200}},
		{"one", []uint32{7}},
		{"zeros", []uint32{0, 5, 0, 3}},
		{"all zero", []uint32{0, 0}},
		{"none", nil},
		{"one huge", []uint32{1, 2, 3, 1<<32 - 1}},
		{"huge alone", []uint32{1<<32 - 1, 1<<32 - 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := backends(tt.weights...)
			tab, err := Build(DefaultSize, bs)
			if err != nil {
				t.Fatal(err)
			}
			if len(tab) != DefaultSize {
				t.Fatalf("len %d", len(tab))
			}
			checkShares(t, tab, bs)
			q, err := Quotas(DefaultSize, bs)
			if err != nil {
				t.Fatal(err)
			}
			counts := Counts(tab)
			for i, b := range bs {
				if q[i] != counts[b.Index] {
					t.Fatalf("Quotas says %d entries for backend %d, table has %d", q[i], b.Index, counts[b.Index])
				}
			}
		})
	}
}

func TestBuildSharesExactRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 30 {
		w := randomWeights(r, 1+r.IntN(200))
		if r.IntN(3) == 0 {
			w[r.IntN(len(w))] = 1 << 31 // one instance dwarfs the rest
		}
		bs := backends(w...)
		tab, err := Build(DefaultSize, bs)
		if err != nil {
			t.Fatal(err)
		}
		checkShares(t, tab, bs)
	}
}

func TestAllZeroIsNoBackend(t *testing.T) {
	tab, err := Build(DefaultSize, backends(0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []uint32{0, 1, 12345, ^uint32(0)} {
		if got := Lookup(tab, h); got != NoBackend {
			t.Fatalf("Lookup(%d) = %d, want NoBackend", h, got)
		}
	}
	if got := Lookup(nil, 3); got != NoBackend {
		t.Fatalf("Lookup(nil) = %d", got)
	}
}

func TestLookupIsHashModM(t *testing.T) {
	tab, err := Build(DefaultSize, backends(3, 1, 4, 1, 5))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []uint32{0, 1, DefaultSize - 1, DefaultSize, DefaultSize + 7, ^uint32(0)} {
		if got, want := Lookup(tab, h), tab[h%DefaultSize]; got != want {
			t.Fatalf("Lookup(%d) = %d, want %d", h, got, want)
		}
	}
}

func TestDeterministic(t *testing.T) {
	bs := backends(randomWeights(rand.New(rand.NewPCG(3, 4)), 50)...)
	a, err := Build(DefaultSize, bs)
	if err != nil {
		t.Fatal(err)
	}
	shuffled := slices.Clone(bs)
	rand.New(rand.NewPCG(5, 6)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b, err := Build(DefaultSize, shuffled)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Fatal("same backends in another order built another table")
	}
	c, changed, err := Update(a, bs)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 0 || !slices.Equal(a, c) {
		t.Fatalf("update with the same weights changed %d entries", len(changed))
	}
}

// minimum is Σ max(0, new−old) over backends, NoBackend included (it
// grows when every weight drops to 0): the fewest entries any table with
// the new shares can differ from prev in.
func minimum(prev, next Table) int {
	count := func(t Table) map[uint32]int {
		c := make(map[uint32]int)
		for _, idx := range t {
			c[idx]++
		}
		return c
	}
	before, after := count(prev), count(next)
	n := 0
	for idx, c := range after {
		n += max(0, c-before[idx])
	}
	return n
}

// checkMinimalUpdate checks that next differs from prev exactly in
// changed, in no more entries than the minimum, and that no backend lost
// an entry unless it shrank.
func checkMinimalUpdate(t *testing.T, prev, next Table, changed []uint32) {
	t.Helper()
	if want := minimum(prev, next); len(changed) != want {
		t.Fatalf("changed %d entries, minimum is %d", len(changed), want)
	}
	if !slices.IsSorted(changed) {
		t.Fatal("changed is not sorted")
	}
	before, after := Counts(prev), Counts(next)
	set := make(map[uint32]bool, len(changed))
	for _, e := range changed {
		set[e] = true
	}
	for e := range next {
		moved := next[e] != prev[e]
		if moved != set[uint32(e)] {
			t.Fatalf("entry %d: moved %v, listed %v", e, moved, set[uint32(e)])
		}
		if moved && prev[e] != NoBackend && after[prev[e]] >= before[prev[e]] {
			t.Fatalf("entry %d taken from backend %d which did not shrink (%d → %d)", e, prev[e], before[prev[e]], after[prev[e]])
		}
	}
}

func TestUpdateJitterIsMinimal(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 20 {
		w := randomWeights(r, 1+r.IntN(100))
		bs := backends(w...)
		tab, err := Build(DefaultSize, bs)
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			for i := range bs {
				bs[i].Weight = uint32(float64(bs[i].Weight) * (0.9 + 0.2*r.Float64()))
			}
			next, changed, err := Update(tab, bs)
			if err != nil {
				t.Fatal(err)
			}
			checkShares(t, next, bs)
			checkMinimalUpdate(t, tab, next, changed)
			tab = next
		}
	}
}

func TestUpdateMembership(t *testing.T) {
	hundred := backends(slices.Repeat([]uint32{100}, 100)...)
	tests := []struct {
		name   string
		before []Backend
		after  []Backend
	}{
		{"remove one of 100", hundred, slices.Delete(slices.Clone(hundred), 42, 43)},
		{"weight to 0", hundred, func() []Backend { b := slices.Clone(hundred); b[42].Weight = 0; return b }()},
		{"add one to 100", hundred, append(slices.Clone(hundred), Backend{Index: 1000, Key: "new", Weight: 100})},
		{"all to 0", hundred, backends(slices.Repeat([]uint32{0}, 100)...)},
		{"from all 0", backends(0, 0), backends(1, 2)},
		{"replace all", backends(1, 2, 3), []Backend{{Index: 7, Key: "x", Weight: 1}}},
		{"sparse indices", []Backend{{Index: 1 << 30, Key: "a", Weight: 3}, {Index: 5, Key: "b", Weight: 1}},
			[]Backend{{Index: 1 << 30, Key: "a", Weight: 1}, {Index: 5, Key: "b", Weight: 1}, {Index: 1 << 20, Key: "c", Weight: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev, err := Build(DefaultSize, tt.before)
			if err != nil {
				t.Fatal(err)
			}
			next, changed, err := Update(prev, tt.after)
			if err != nil {
				t.Fatal(err)
			}
			checkShares(t, next, tt.after)
			checkMinimalUpdate(t, prev, next, changed)
		})
	}
}

func TestRemoveOneOfHundredMovesOnlyItsEntries(t *testing.T) {
	bs := backends(slices.Repeat([]uint32{100}, 100)...)
	prev, err := Build(DefaultSize, bs)
	if err != nil {
		t.Fatal(err)
	}
	next, changed, err := Update(prev, slices.Delete(slices.Clone(bs), 42, 43))
	if err != nil {
		t.Fatal(err)
	}
	held := Counts(prev)[42]
	if len(changed) != held {
		t.Fatalf("changed %d entries, backend 42 held %d", len(changed), held)
	}
	for _, e := range changed {
		if prev[e] != 42 {
			t.Fatalf("entry %d moved from backend %d", e, prev[e])
		}
	}
	if held != DefaultSize/100 && held != DefaultSize/100+1 {
		t.Fatalf("backend 42 held %d entries", held)
	}
	if _, ok := Counts(next)[42]; ok {
		t.Fatal("removed backend still holds entries")
	}
}

func TestAddOneMovesOnlyWhatItTakes(t *testing.T) {
	bs := backends(slices.Repeat([]uint32{100}, 100)...)
	prev, err := Build(DefaultSize, bs)
	if err != nil {
		t.Fatal(err)
	}
	next, changed, err := Update(prev, append(slices.Clone(bs), Backend{Index: 500, Key: "newcomer", Weight: 100}))
	if err != nil {
		t.Fatal(err)
	}
	if got := Counts(next)[500]; len(changed) != got {
		t.Fatalf("changed %d entries, newcomer holds %d", len(changed), got)
	}
	for _, e := range changed {
		if next[e] != 500 {
			t.Fatalf("entry %d went to %d, not the newcomer", e, next[e])
		}
	}
}

func TestInvalid(t *testing.T) {
	ok := backends(1, 2)
	tests := []struct {
		name     string
		size     int
		backends []Backend
	}{
		{"size not prime", 65541, ok}, // 3 · 21847
		{"size even", 65538, ok},
		{"size too small", 65521, ok}, // prime, but below MinSize
		{"size zero", 0, ok},
		{"size negative", -7, ok},
		{"duplicate index", 0, []Backend{{Index: 1, Key: "a", Weight: 1}, {Index: 1, Key: "b", Weight: 1}}},
		{"duplicate key", 0, []Backend{{Index: 1, Key: "a", Weight: 1}, {Index: 2, Key: "a", Weight: 1}}},
		{"empty key", 0, []Backend{{Index: 1, Weight: 1}}},
		{"reserved index", 0, []Backend{{Index: NoBackend, Key: "a", Weight: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size := tt.size
			if size == 0 && tt.name != "size zero" {
				size = DefaultSize
			}
			if _, err := Build(size, tt.backends); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Build: err = %v, want ErrInvalid", err)
			}
			if _, _, err := Update(make(Table, max(size, 0)), tt.backends); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Update: err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestPermIsPermutation(t *testing.T) {
	p := newPerm("web-1", DefaultSize)
	seen := make([]bool, DefaultSize)
	for j := range uint64(DefaultSize) {
		e := p.at(j)
		if seen[e] {
			t.Fatalf("entry %d visited twice", e)
		}
		seen[e] = true
		if r := p.rank(e); r != j {
			t.Fatalf("rank(at(%d)) = %d", j, r)
		}
	}
}

func TestIsPrime(t *testing.T) {
	for n, want := range map[uint64]bool{0: false, 1: false, 2: true, 9: false, 65537: true, 65539: true, 65541: false, MaxSize: true, 1<<32 - 1: false} {
		if got := isPrime(n); got != want {
			t.Errorf("isPrime(%d) = %v", n, got)
		}
	}
}

package maglev

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSelectSmallest(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	tests := []struct {
		name string
		a    []uint64
	}{
		{"empty", nil},
		{"one", []uint64{5}},
		{"sorted", []uint64{1, 2, 3, 4, 5, 6, 7}},
		{"reversed", []uint64{7, 6, 5, 4, 3, 2, 1}},
		{"equal", []uint64{3, 3, 3, 3}},
		{"random", func() []uint64 {
			a := make([]uint64, 1000)
			for i := range a {
				a[i] = r.Uint64N(300)
			}
			return a
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := slices.Sorted(slices.Values(tt.a))
			for k := 0; k <= len(tt.a); k += max(1, len(tt.a)/17) {
				a := slices.Clone(tt.a)
				selectSmallest(a, k)
				got := slices.Sorted(slices.Values(a[:k]))
				if !slices.Equal(got, want[:k]) {
					t.Fatalf("k=%d: smallest %v, want %v", k, got, want[:k])
				}
			}
		})
	}
}

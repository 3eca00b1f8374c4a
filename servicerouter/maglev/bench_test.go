package maglev

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// slotCounts draws n instances of 10, 50 or 200 slots, each with an
// arbitrary number of them free: the weights a router sees.
func slotCounts(r *rand.Rand, n int) []uint32 {
	w := make([]uint32, n)
	for i := range w {
		max := []int{10, 50, 200}[r.IntN(3)]
		w[i] = uint32(1 + r.IntN(max))
	}
	return w
}

// jitter moves every weight by up to ±10 %.
func jitter(r *rand.Rand, bs []Backend) []Backend {
	out := slices.Clone(bs)
	for i := range out {
		out[i].Weight = uint32(math.Round(float64(out[i].Weight) * (0.9 + 0.2*r.Float64())))
	}
	return out
}

// BenchmarkShareError reports how far entry counts are from the exact
// shares: worst relative error over backends, worst error in entries
// (below 1 by construction) and worst error in percentage points of
// traffic. No table of M entries can give a backend with an exact share
// of q entries a relative error much below 0.5/q, so the relative error
// is set by the smallest share; a larger M is the only cure.
func BenchmarkShareError(b *testing.B) {
	for _, c := range []struct{ n, m int }{{12, DefaultSize}, {100, DefaultSize}, {12, 1048573}} {
		b.Run(fmt.Sprintf("instances=%d/M=%d", c.n, c.m), func(b *testing.B) {
			bs := backends(slotCounts(rand.New(rand.NewPCG(uint64(c.n), 1)), c.n)...)
			var tab Table
			for b.Loop() {
				var err error
				if tab, err = Build(c.m, bs); err != nil {
					b.Fatal(err)
				}
			}
			var total float64
			for _, x := range bs {
				total += float64(x.Weight)
			}
			counts := Counts(tab)
			var rel, abs, minEntries float64 = 0, 0, math.Inf(1)
			for _, x := range bs {
				exact := float64(c.m) * float64(x.Weight) / total
				d := math.Abs(float64(counts[x.Index]) - exact)
				rel = max(rel, d/exact)
				abs = max(abs, d)
				minEntries = min(minEntries, exact)
			}
			b.ReportMetric(100*rel, "worst-rel-err-%")
			b.ReportMetric(abs, "worst-err-entries")
			b.ReportMetric(100*abs/float64(c.m), "worst-err-pp")
			b.ReportMetric(minEntries, "smallest-share-entries")
		})
	}
}

// BenchmarkOneOfHundredLeaves hashes a million random flows before and
// after one of 100 equal instances leaves and reports the percentage of
// flows that changed instance; the ideal is 1 %.
func BenchmarkOneOfHundredLeaves(b *testing.B) {
	bs := backends(slices.Repeat([]uint32{100}, 100)...)
	prev, err := Build(DefaultSize, bs)
	if err != nil {
		b.Fatal(err)
	}
	var next Table
	for b.Loop() {
		if next, _, err = Update(prev, slices.Delete(slices.Clone(bs), 42, 43)); err != nil {
			b.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(9, 10))
	const flows = 1_000_000
	moved := 0
	for range flows {
		h := r.Uint32()
		if Lookup(prev, h) != Lookup(next, h) {
			moved++
		}
	}
	pct := 100 * float64(moved) / flows
	b.ReportMetric(pct, "flows-moved-%")
	b.ReportMetric(math.Abs(pct-1), "pp-from-ideal")
}

// BenchmarkJitter applies a ±10 % jitter to the slot counts of 100
// instances and reports the entries Update changes as a ratio to the
// unavoidable minimum Σ max(0, new−old), next to what a fresh Build of
// the same weights would change.
func BenchmarkJitter(b *testing.B) {
	r := rand.New(rand.NewPCG(11, 12))
	bs := backends(slotCounts(r, 100)...)
	prev, err := Build(DefaultSize, bs)
	if err != nil {
		b.Fatal(err)
	}
	moved := jitter(r, bs)
	var next Table
	var changed []uint32
	for b.Loop() {
		if next, changed, err = Update(prev, moved); err != nil {
			b.Fatal(err)
		}
	}
	fresh, err := Build(DefaultSize, moved)
	if err != nil {
		b.Fatal(err)
	}
	freshChanged := 0
	for e := range fresh {
		if fresh[e] != prev[e] {
			freshChanged++
		}
	}
	least := float64(minimum(prev, next))
	b.ReportMetric(float64(len(changed))/least, "update/min")
	b.ReportMetric(float64(freshChanged)/least, "build/min")
	b.ReportMetric(100*float64(len(changed))/DefaultSize, "update-changed-%")
	b.ReportMetric(100*float64(freshChanged)/DefaultSize, "build-changed-%")
}

// BenchmarkBuild times a fresh table for 100 instances.
func BenchmarkBuild(b *testing.B) {
	bs := backends(slotCounts(rand.New(rand.NewPCG(13, 14)), 100)...)
	for b.Loop() {
		if _, err := Build(DefaultSize, bs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdate times an update for a ±10 % jitter of 100 instances,
// the common case: every slot report changes a weight a little.
func BenchmarkUpdate(b *testing.B) {
	r := rand.New(rand.NewPCG(15, 16))
	bs := backends(slotCounts(r, 100)...)
	prev, err := Build(DefaultSize, bs)
	if err != nil {
		b.Fatal(err)
	}
	moved := jitter(r, bs)
	for b.Loop() {
		if _, _, err := Update(prev, moved); err != nil {
			b.Fatal(err)
		}
	}
}

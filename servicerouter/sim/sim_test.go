package sim

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/servicerouter/slots"
)

func TestRunIsDeterministic(t *testing.T) {
	cfg := Config{Seed: 7, Policy: SlotAware, Sessions: 20_000}
	a, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("same config, different results: %+v, %+v", a, b)
	}
	if a.Sessions != cfg.Sessions {
		t.Fatalf("counted %d sessions, want %d", a.Sessions, cfg.Sessions)
	}
}

// TestSlotAwareRefusesLess asserts only the robust ordering for a fixed
// seed: slot-aware Maglev refuses far fewer sessions than round robin and
// fewer than static weights. The figures themselves are in BenchmarkSimFigures.
func TestSlotAwareRefusesLess(t *testing.T) {
	res := map[Policy]Result{}
	for _, p := range []Policy{SlotAware, StaticMaglev, RoundRobin} {
		r, err := Run(Config{Seed: 1, Policy: p, Sessions: 50_000})
		if err != nil {
			t.Fatal(err)
		}
		if r.WronglyRefused > r.Refused {
			t.Fatalf("%v: %d wrongly of %d refused", p, r.WronglyRefused, r.Refused)
		}
		res[p] = r
	}
	aware, static, rr := res[SlotAware].WronglyRefused, res[StaticMaglev].WronglyRefused, res[RoundRobin].WronglyRefused
	if 5*aware >= rr || aware >= static {
		t.Fatalf("wrongly refused: slot-aware %d, static %d, round robin %d", aware, static, rr)
	}
}

// TestFullTable runs the slot-aware policy on real Maglev tables updated
// incrementally, as the router does, instead of their apportionment.
func TestFullTable(t *testing.T) {
	cfg := Config{Seed: 3, Sessions: 2_000, Warmup: 10 * time.Second, FullTable: true}
	aware, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Policy = RoundRobin
	rr, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if aware.TableUpdates == 0 || aware.EntriesChanged == 0 {
		t.Fatalf("no table updates: %+v", aware)
	}
	if aware.WronglyRefused >= rr.WronglyRefused {
		t.Fatalf("wrongly refused: slot-aware %d, round robin %d", aware.WronglyRefused, rr.WronglyRefused)
	}
}

func TestConfigInvalid(t *testing.T) {
	bad := slots.DefaultParams()
	bad.K = math.NaN()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no instances", Config{Slots: []int{}}},
		{"zero slots", Config{Slots: []int{10, 0}}},
		{"negative load", Config{Load: -1}},
		{"NaN load", Config{Load: math.NaN()}},
		{"negative duration", Config{MeanDuration: -time.Second}},
		{"negative sessions", Config{Sessions: -1}},
		{"unknown policy", Config{Policy: Policy(9)}},
		{"table size not prime", Config{TableSize: 65536}},
		{"bad params", Config{Params: &bad}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Run(tt.cfg); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Run = %v, want ErrInvalid", err)
			}
		})
	}
}

// figureRuns are the runs behind the figure, long enough (about 2,000
// session lengths) for the slot-aware number to settle to ±0.2 points.
func figureRuns() []struct {
	name string
	cfg  Config
} {
	ablate := func(k, share float64) *slots.Params {
		p := slots.DefaultParams()
		p.K, p.Share = k, share
		return &p
	}
	const n = 200_000
	return []struct {
		name string
		cfg  Config
	}{
		{"slot-aware maglev (defaults)", Config{Seed: 1, Policy: SlotAware, Sessions: n}},
		{"static maglev (weights = max slots)", Config{Seed: 1, Policy: StaticMaglev, Sessions: n}},
		{"round robin", Config{Seed: 1, Policy: RoundRobin, Sessions: n}},
		{"slot-aware, no headroom (K=0)", Config{Seed: 1, Policy: SlotAware, Sessions: n, Params: ablate(0, 1)}},
		{"slot-aware, sends not counted (Share=0)", Config{Seed: 1, Policy: SlotAware, Sessions: n, Params: ablate(2, 0)}},
		{"slot-aware, 60 s sessions", Config{Seed: 1, Policy: SlotAware, Sessions: n, MeanDuration: time.Minute}},
		{"slot-aware, fresh reports every 10 ms", Config{Seed: 1, Policy: SlotAware, Sessions: n, ReportInterval: 10 * time.Millisecond, Staleness: time.Nanosecond}},
	}
}

// BenchmarkSimFigures prints the figure for the docs (a benchmark, not a
// test: it prints, it asserts nothing):
//
//	go test -run '^$' -bench SimFigures -benchtime 1x ./servicerouter/sim/
func BenchmarkSimFigures(b *testing.B) {
	for b.Loop() {
		simFigures(b)
	}
}

func simFigures(t testing.TB) {
	var b strings.Builder
	fmt.Fprintf(&b, "12 instances (4×10, 4×50, 4×200 slots), 95%% load, 10 s sessions, reports every 100 ms arriving 100 ms stale, 200,000 sessions, seed 1\n")
	fmt.Fprintf(&b, "%-42s %18s %12s\n", "policy", "wrongly refused", "refused")
	for _, run := range figureRuns() {
		r, err := Run(run.cfg)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%-42s %17.2f%% %11.2f%%\n", run.name, r.WronglyRefusedPct(), r.RefusedPct())
	}
	// One seed is one sample of a noisy process: show the spread.
	var sum, worst float64
	const seeds = 8
	for seed := uint64(1); seed <= seeds; seed++ {
		r, err := Run(Config{Seed: seed, Policy: SlotAware, Sessions: 200_000})
		if err != nil {
			t.Fatal(err)
		}
		sum += r.WronglyRefusedPct()
		worst = max(worst, r.WronglyRefusedPct())
	}
	fmt.Fprintf(&b, "slot-aware maglev (defaults), seeds 1–%d: mean %.2f%%, worst %.2f%% wrongly refused\n", seeds, sum/seeds, worst)
	t.Log("\n" + b.String())
}

package wanem

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// epoch is the fake clock's origin: the scheduler only does arithmetic on
// the times it is given, so tests need no real clock.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newTestScheduler(t testing.TB, imp Impairment, seed uint64) *Scheduler {
	t.Helper()
	s, err := NewScheduler(imp, rand.New(rand.NewPCG(seed, 0)))
	if err != nil {
		t.Fatalf("NewScheduler(%+v): %v", imp, err)
	}
	return s
}

func TestImpairmentValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		imp  Impairment
		ok   bool
	}{
		{"zero", Impairment{}, true},
		{"typical", Impairment{Delay: 20 * time.Millisecond, Jitter: 2 * time.Millisecond, Loss: 0.001, RateBps: 100e6}, true},
		{"normal jitter", Impairment{Delay: time.Millisecond, Jitter: time.Millisecond, Distribution: Normal}, true},
		{"max delay", Impairment{Delay: time.Minute}, true},
		{"full loss", Impairment{Loss: 1}, true},
		{"min rate", Impairment{RateBps: 8}, true},
		{"negative delay", Impairment{Delay: -1}, false},
		{"huge delay", Impairment{Delay: time.Minute + 1}, false},
		{"negative jitter", Impairment{Delay: time.Millisecond, Jitter: -1}, false},
		{"jitter without delay", Impairment{Jitter: time.Millisecond}, false},
		{"bad distribution", Impairment{Distribution: 7}, false},
		{"negative loss", Impairment{Loss: -0.1}, false},
		{"loss above 1", Impairment{Loss: 1.5}, false},
		{"NaN loss", Impairment{Loss: math.NaN()}, false},
		{"tiny rate", Impairment{RateBps: 7}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.imp.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestNewSchedulerRejects(t *testing.T) {
	t.Parallel()
	if _, err := NewScheduler(Impairment{Loss: 2}, rand.New(rand.NewPCG(1, 1))); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad impairment: err = %v, want ErrInvalid", err)
	}
	if _, err := NewScheduler(Impairment{}, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil rand: err = %v, want ErrInvalid", err)
	}
}

// TestScheduleDelay feeds 10,000 packets spaced wider than any jitter, so
// the no-reordering rule never bites, and checks mean, bounds and spread.
func TestScheduleDelay(t *testing.T) {
	t.Parallel()
	const n = 10000
	const gap = 100 * time.Millisecond
	tests := []struct {
		name     string
		imp      Impairment
		wantMean time.Duration
		tol      time.Duration
		min, max time.Duration // hard bounds of a single delay
		wantSD   time.Duration // expected standard deviation
	}{
		{"none", Impairment{}, 0, 0, 0, 0, 0},
		{"fixed", Impairment{Delay: 20 * time.Millisecond}, 20 * time.Millisecond, 0, 20 * time.Millisecond, 20 * time.Millisecond, 0},
		// Uniform on [-J, J]: sd J/sqrt(3); standard error of the mean
		// for 10,000 samples is ~J/173, so J/20 is a loose bound.
		{"uniform", Impairment{Delay: 20 * time.Millisecond, Jitter: 5 * time.Millisecond}, 20 * time.Millisecond, 250 * time.Microsecond, 15 * time.Millisecond, 25 * time.Millisecond, time.Duration(float64(5*time.Millisecond) / math.Sqrt(3))},
		// Normal with J well below the delay: clamping at zero never
		// happens (20ms is 10 sd away).
		{"normal", Impairment{Delay: 20 * time.Millisecond, Jitter: 2 * time.Millisecond, Distribution: Normal}, 20 * time.Millisecond, 100 * time.Microsecond, 0, time.Minute, 2 * time.Millisecond},
		// Jitter larger than the delay: never a negative delay.
		{"clamped", Impairment{Delay: time.Millisecond, Jitter: 10 * time.Millisecond}, -1, 0, 0, 11 * time.Millisecond, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestScheduler(t, tt.imp, 42)
			var sum, sumSq float64
			for i := range n {
				at := epoch.Add(time.Duration(i) * gap)
				dep, ok := s.Schedule(1500, at)
				if !ok {
					t.Fatalf("packet %d lost without loss configured", i)
				}
				d := dep.Sub(at)
				if d < tt.min || d > tt.max {
					t.Fatalf("packet %d delay %v outside [%v, %v]", i, d, tt.min, tt.max)
				}
				sum += float64(d)
				sumSq += float64(d) * float64(d)
			}
			mean := sum / n
			sd := math.Sqrt(sumSq/n - mean*mean)
			if tt.wantMean >= 0 && math.Abs(mean-float64(tt.wantMean)) > float64(tt.tol) {
				t.Errorf("mean delay %v, want %v ± %v", time.Duration(mean), tt.wantMean, tt.tol)
			}
			if tt.wantSD >= 0 && math.Abs(sd-float64(tt.wantSD)) > 0.05*float64(tt.wantSD)+1 {
				t.Errorf("delay sd %v, want %v ± 5%%", time.Duration(sd), tt.wantSD)
			}
		})
	}
}

// TestScheduleLoss checks the loss rate against a 5-sigma binomial bound:
// with a fixed seed the result is deterministic, the bound says the rate is
// the right one rather than fitted to one seed.
func TestScheduleLoss(t *testing.T) {
	t.Parallel()
	const n = 10000
	for _, p := range []float64{0, 0.001, 0.01, 0.1, 0.5, 0.9, 1} {
		for _, seed := range []uint64{1, 2, 3} {
			s := newTestScheduler(t, Impairment{Loss: p, Delay: time.Millisecond}, seed)
			lost := 0
			for i := range n {
				if _, ok := s.Schedule(100, epoch.Add(time.Duration(i)*time.Millisecond)); !ok {
					lost++
				}
			}
			sigma := math.Sqrt(n * p * (1 - p))
			if want := n * p; math.Abs(float64(lost)-want) > 5*sigma {
				t.Errorf("loss %v seed %d: lost %d of %d, want %.0f ± %.0f", p, seed, lost, n, want, 5*sigma)
			}
		}
	}
}

// TestScheduleLossDeterministic: the same seed gives the same decisions.
func TestScheduleLossDeterministic(t *testing.T) {
	t.Parallel()
	run := func() []time.Time {
		s := newTestScheduler(t, Impairment{Loss: 0.3, Delay: 10 * time.Millisecond, Jitter: 3 * time.Millisecond}, 7)
		var out []time.Time
		for i := range 1000 {
			dep, _ := s.Schedule(64, epoch.Add(time.Duration(i)*time.Millisecond))
			out = append(out, dep)
		}
		return out
	}
	if a, b := run(), run(); !slices.Equal(a, b) {
		t.Fatal("same seed, different schedules")
	}
}

func TestScheduleRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		imp     Impairment
		sizes   []int
		arrive  []time.Duration // offsets from epoch
		wantDep []time.Duration // offsets from epoch
	}{
		{
			// 1500 B at 1 Mbit/s is 12 ms: a burst leaves exactly 12 ms apart.
			name:    "burst 1mbit",
			imp:     Impairment{RateBps: 1e6},
			sizes:   []int{1500, 1500, 1500, 1500},
			arrive:  []time.Duration{0, 0, 0, 0},
			wantDep: []time.Duration{0, 12 * time.Millisecond, 24 * time.Millisecond, 36 * time.Millisecond},
		},
		{
			// Spacing follows each packet's own size.
			name:    "mixed sizes 8kbit",
			imp:     Impairment{RateBps: 8000},
			sizes:   []int{1, 10, 100},
			arrive:  []time.Duration{0, 0, 0},
			wantDep: []time.Duration{0, 10 * time.Millisecond, 110 * time.Millisecond},
		},
		{
			// An idle link does not delay: arrivals wider than the
			// serialisation time leave on arrival.
			name:    "idle link",
			imp:     Impairment{RateBps: 1e6},
			sizes:   []int{125, 125, 125},
			arrive:  []time.Duration{0, 5 * time.Millisecond, 6 * time.Millisecond},
			wantDep: []time.Duration{0, 5 * time.Millisecond, 6 * time.Millisecond},
		},
		{
			// Partly busy: the third arrives 0.5 ms after the second,
			// which is 1 ms long.
			name:    "partly busy",
			imp:     Impairment{RateBps: 1e6},
			sizes:   []int{125, 125, 125},
			arrive:  []time.Duration{0, 5 * time.Millisecond, 5500 * time.Microsecond},
			wantDep: []time.Duration{0, 5 * time.Millisecond, 6 * time.Millisecond},
		},
		{
			// Delay shifts the whole train; spacing is kept.
			name:    "delay and rate",
			imp:     Impairment{Delay: 20 * time.Millisecond, RateBps: 1e6},
			sizes:   []int{1500, 1500, 1500},
			arrive:  []time.Duration{0, 0, 0},
			wantDep: []time.Duration{20 * time.Millisecond, 32 * time.Millisecond, 44 * time.Millisecond},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestScheduler(t, tt.imp, 1)
			for i, size := range tt.sizes {
				dep, ok := s.Schedule(size, epoch.Add(tt.arrive[i]))
				if !ok {
					t.Fatalf("packet %d lost", i)
				}
				if got := dep.Sub(epoch); got != tt.wantDep[i] {
					t.Errorf("packet %d departs at %v, want %v", i, got, tt.wantDep[i])
				}
			}
		})
	}
}

// TestScheduleNoReorder: with heavy jitter and back-to-back arrivals,
// departures never go backwards and never precede arrival.
func TestScheduleNoReorder(t *testing.T) {
	t.Parallel()
	for _, dist := range []Distribution{Uniform, Normal} {
		s := newTestScheduler(t, Impairment{Delay: 10 * time.Millisecond, Jitter: 10 * time.Millisecond, Distribution: dist, RateBps: 1e9}, 3)
		var prev time.Time
		for i := range 10000 {
			at := epoch.Add(time.Duration(i) * 100 * time.Microsecond)
			dep, _ := s.Schedule(1000, at)
			if dep.Before(at) {
				t.Fatalf("%v: packet %d departs %v before arrival", dist, i, at.Sub(dep))
			}
			if i > 0 && dep.Sub(prev) < TxTime(1000, 1e9) {
				t.Fatalf("%v: packet %d departs %v after the previous, less than its tx time", dist, i, dep.Sub(prev))
			}
			prev = dep
		}
	}
}

func TestTxTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		size int
		rate uint64
		want time.Duration
	}{
		{1500, 1e6, 12 * time.Millisecond},
		{1500, 1e9, 12 * time.Microsecond},
		{65536, 8, 65536 * time.Second},
		{0, 1e6, 0},
		{-5, 1e6, 0},
		{1, 3, 2666666666}, // rounded down
	}
	for _, tt := range tests {
		if got := TxTime(tt.size, tt.rate); got != tt.want {
			t.Errorf("TxTime(%d, %d) = %v, want %v", tt.size, tt.rate, got, tt.want)
		}
	}
}

func BenchmarkSchedule(b *testing.B) {
	imp := Impairment{Delay: 20 * time.Millisecond, Jitter: 2 * time.Millisecond, Loss: 0.01, RateBps: 1e9}
	for _, dist := range []Distribution{Uniform, Normal} {
		b.Run(dist.String(), func(b *testing.B) {
			imp.Distribution = dist
			s := newTestScheduler(b, imp, 1)
			at := epoch
			for b.Loop() {
				at = at.Add(time.Microsecond)
				s.Schedule(1500, at)
			}
		})
	}
}

package slots

import (
	"errors"
	"math"
	"testing"
	"time"
)

// t0 is an arbitrary origin for the times passed in.
func t0() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// observe feeds reports of (max, available) measured at the given offsets.
func observe(t *testing.T, p Params, reports ...Report) Instance {
	t.Helper()
	var in Instance
	for _, r := range reports {
		if err := in.Observe(r, p); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

func report(max, avail int, at time.Duration) Report {
	return Report{Max: max, Available: avail, MeasuredAt: t0().Add(at)}
}

func TestParamsValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Params)
		ok     bool
	}{
		{"defaults", func(*Params) {}, true},
		{"zero horizon", func(p *Params) { p.Horizon = 0 }, true},
		{"zero tau", func(p *Params) { p.Tau = 0 }, false},
		{"zero session", func(p *Params) { p.SessionDuration = 0 }, false},
		{"negative horizon", func(p *Params) { p.Horizon = -1 }, false},
		{"zero timeout", func(p *Params) { p.Timeout = 0 }, false},
		{"NaN K", func(p *Params) { p.K = math.NaN() }, false},
		{"infinite K", func(p *Params) { p.K = math.Inf(1) }, false},
		{"negative K", func(p *Params) { p.K = -1 }, false},
		{"spend above 1", func(p *Params) { p.Spend = 1.5 }, false},
		{"NaN spend", func(p *Params) { p.Spend = math.NaN() }, false},
		{"share below 0", func(p *Params) { p.Share = -0.1 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultParams()
			tt.modify(&p)
			err := p.Validate()
			if tt.ok != (err == nil) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestObserveRejects(t *testing.T) {
	p := DefaultParams()
	tests := []struct {
		name string
		r    Report
	}{
		{"more free than max", report(10, 11, 0)},
		{"negative free", report(10, -1, 0)},
		{"negative max", report(-1, 0, 0)},
		{"older than last", report(10, 5, -ms(1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := observe(t, p, report(10, 3, 0))
			before := in.Estimate(t0(), p)
			if err := in.Observe(tt.r, p); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Observe = %v, want ErrInvalid", err)
			}
			if after := in.Estimate(t0(), p); after != before {
				t.Fatalf("rejected report changed the instance: %+v → %+v", before, after)
			}
		})
	}
	var in Instance
	bad := p
	bad.Tau = 0
	if err := in.Observe(report(1, 1, 0), bad); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Observe with bad params = %v", err)
	}
}

func TestMovingAverageIsTimeBased(t *testing.T) {
	p := DefaultParams()
	p.Tau = 10 * time.Second
	tests := []struct {
		name     string
		reports  []Report
		mean     float64
		variance float64
	}{
		{"first report", []Report{report(100, 40, 0)}, 60, 0},
		{"constant use", []Report{report(100, 40, 0), report(100, 40, ms(100)), report(100, 40, ms(5000))}, 60, 0},
		// After one Tau the new sample weighs 1 − 1/e.
		{"one tau", []Report{report(100, 100, 0), report(100, 0, 10*time.Second)}, 100 * (1 - 1/math.E), 100 * 100 * (1 - 1/math.E) / math.E},
		// A burst a millisecond later barely moves the average…
		{"burst", []Report{report(100, 100, 0), report(100, 0, ms(1))}, 100 * -math.Expm1(-0.0001), 100 * 100 * -math.Expm1(-0.0001) * math.Exp(-0.0001)},
		// …and the same report after a long gap replaces the history.
		{"long gap", []Report{report(100, 100, 0), report(100, 0, time.Hour)}, 100, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := observe(t, p, tt.reports...)
			e := in.Estimate(tt.reports[len(tt.reports)-1].MeasuredAt, p)
			if math.Abs(e.Mean-tt.mean) > 1e-9*max(1, tt.mean) {
				t.Errorf("mean %v, want %v", e.Mean, tt.mean)
			}
			if math.Abs(e.Sigma*e.Sigma-tt.variance) > 1e-6*max(1, tt.variance) {
				t.Errorf("variance %v, want %v", e.Sigma*e.Sigma, tt.variance)
			}
		})
	}
}

func TestWeight(t *testing.T) {
	stable := func(max, avail int) []Report { // steady use for a minute, 100 ms reports
		var rs []Report
		for i := 0; i <= 600; i++ {
			rs = append(rs, report(max, avail, ms(100*i)))
		}
		return rs
	}
	last := ms(60_000)
	fresh := DefaultParams()
	fresh.Horizon = 0
	tests := []struct {
		name    string
		params  Params
		reports []Report
		sent    []time.Duration // one session sent at each offset
		now     time.Duration
		weight  uint32
		live    bool
	}{
		{"fresh idle instance: every slot", fresh, stable(50, 50), nil, last, 50, true},
		{"fresh full instance: none", fresh, stable(50, 0), nil, last, 0, true},
		{"fresh stable: last slot spent", fresh, stable(10, 1), nil, last, 1, true},
		{"sessions sent since the report", fresh, stable(50, 50), []time.Duration{last + ms(1), last + ms(2), last + ms(3)}, last + ms(3), 47, true},
		{"sessions sent before the report are in it", fresh, stable(50, 50), []time.Duration{last - ms(50)}, last, 50, true},
		{"draining", fresh, append(stable(50, 50), Report{Max: 50, Available: 50, MeasuredAt: t0().Add(last + ms(1)), Draining: true}), nil, last + ms(1), 0, false},
		{"report timed out", fresh, stable(50, 50), nil, last + 2*time.Second, 0, false},
		{"never reported", fresh, nil, nil, 0, 0, false},
		{"stale busy instance: last slot held back", DefaultParams(), stable(200, 1), nil, last + ms(100), 0, true},
		{"stale busy instance: slots freed meanwhile count", DefaultParams(), stable(200, 10), nil, last + ms(500), 14, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := observe(t, tt.params, tt.reports...)
			for _, at := range tt.sent {
				in.Sent(t0().Add(at), 1)
			}
			e := in.Estimate(t0().Add(tt.now), tt.params)
			if e.Weight != tt.weight || e.Live != tt.live {
				t.Fatalf("weight %d live %v, want %d %v (%+v)", e.Weight, e.Live, tt.weight, tt.live, e)
			}
		})
	}
}

// TestHeadroomGrows checks the direction of every term: older reports,
// more churn and less sharing of the counts all hold more slots back.
func TestHeadroomGrows(t *testing.T) {
	p := DefaultParams()
	p.Share = 0 // pure rate × staleness
	var in Instance
	for i := 0; i <= 100; i++ {
		if err := in.Observe(report(200, 20, ms(100*i)), p); err != nil {
			t.Fatal(err)
		}
	}
	now := t0().Add(ms(10_000))
	prev := in.Estimate(now, p).Arrivals
	for _, age := range []int{100, 200, 400, 800} {
		e := in.Estimate(now.Add(ms(age)), p)
		if e.Arrivals <= prev {
			t.Fatalf("age %d ms: arrivals %v did not grow from %v", age, e.Arrivals, prev)
		}
		prev = e.Arrivals
	}
	noisy := p // same last report, after use swung between 0 and 200
	var swung Instance
	for i := 0; i <= 100; i++ {
		avail := (i % 2) * 200
		if i == 100 {
			avail = 20
		}
		if err := swung.Observe(report(200, avail, ms(100*i)), noisy); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := in.Estimate(now.Add(ms(100)), p), swung.Estimate(now.Add(ms(100)), noisy); b.Headroom <= a.Headroom || b.Weight >= a.Weight {
		t.Fatalf("unstable instance: headroom %v weight %d, stable: %v %d", b.Headroom, b.Weight, a.Headroom, a.Weight)
	}
	shorter := p
	shorter.SessionDuration = time.Second // more churn for the same use
	if a, b := in.Estimate(now.Add(ms(100)), p).Headroom, in.Estimate(now.Add(ms(100)), shorter).Headroom; b <= a {
		t.Fatalf("headroom with 1 s sessions %v not above 10 s sessions %v", b, a)
	}
}

func TestSentIsBounded(t *testing.T) {
	p := DefaultParams()
	in := observe(t, p, report(1000, 1000, 0))
	for i := range 10_000 {
		in.Sent(t0().Add(time.Duration(i)*50*time.Microsecond), 1) // 20 per ms
	}
	in.Sent(t0(), 0)
	in.Sent(t0(), -3)
	if got := in.Estimate(t0().Add(ms(500)), p).Sent; got != 10_000 {
		t.Fatalf("Sent = %d, want 10000", got)
	}
	if len(in.sent) > 501 {
		t.Fatalf("%d buckets for 500 ms of sends", len(in.sent))
	}
	if err := in.Observe(report(1000, 0, ms(400)), p); err != nil {
		t.Fatal(err)
	}
	if got := in.Estimate(t0().Add(ms(500)), p).Sent; got != 2000 {
		t.Fatalf("after a report at 400 ms, Sent = %d, want 2000", got)
	}
}

func TestWeightsFallBack(t *testing.T) {
	p := DefaultParams()
	instance := func(max, avail int, draining bool) Instance {
		var in Instance
		for i := 0; i <= 100; i++ {
			r := report(max, avail, ms(100*i))
			r.Draining = draining
			if err := in.Observe(r, p); err != nil {
				t.Fatal(err)
			}
		}
		return in
	}
	now := t0().Add(ms(10_300)) // reports 300 ms old
	tests := []struct {
		name     string
		ins      []Instance
		fallback bool
		want     []uint32
	}{
		// Small busy instances: headroom eats their last slots, but one
		// of them most likely still has one.
		{"rule leaves all at 0", []Instance{instance(10, 1, false), instance(10, 0, false), instance(10, 5, true)}, true, []uint32{1, 0, 0}},
		{"some room: rule applies", []Instance{instance(200, 30, false), instance(10, 1, false)}, false, []uint32{31, 0}},
		{"nothing live", []Instance{instance(10, 5, true), {}}, false, []uint32{0, 0}},
		{"none", nil, false, []uint32{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Weights(tt.ins, now, p)
			if err != nil {
				t.Fatal(err)
			}
			rule := true
			for i, in := range tt.ins {
				rule = rule && got[i] == in.Estimate(now, p).Weight
			}
			if rule == tt.fallback && len(tt.ins) > 0 {
				t.Fatalf("fell back: %v, want %v", !rule, tt.fallback)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Weights = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("Weights = %v, want %v", got, tt.want)
				}
			}
		})
	}
	if _, err := Weights(nil, now, Params{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Weights with zero Params = %v", err)
	}
}

// TestMeasuredSessionLength: the router learns from its own sends and the
// reports that an instance's sessions are short (many sent, none left in
// use), and stops counting them as taken slots; sessions that stay in use
// keep the configured length and count whole until a report shows them.
func TestMeasuredSessionLength(t *testing.T) {
	p := DefaultParams()
	t0 := time.Unix(1000, 0)
	const interval = 200 * time.Millisecond
	tests := []struct {
		name      string
		held      func(sentSoFar int) int // slots in use at a report
		wantShort bool
		// The weight at the end of the last interval, 60 sessions sent
		// since its report: at least Free minus what is still in use.
		wantMin, wantMax func(e Estimate) int
	}{
		{"short sessions", func(int) int { return 1 }, true,
			func(e Estimate) int { return e.Free - 5 }, func(e Estimate) int { return e.Free + 1 }}, // the session in use ends too
		{"long sessions", func(sent int) int { return sent }, false,
			func(e Estimate) int { return 0 }, func(e Estimate) int { return e.Free - e.Sent }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in Instance
			sent := 0
			var at time.Time
			for i := range 5 {
				at = t0.Add(time.Duration(i) * interval)
				use := tt.held(sent)
				if err := in.Observe(Report{Max: 1000, Available: 1000 - use, MeasuredAt: at}, p); err != nil {
					t.Fatal(err)
				}
				for k := range 60 { // spread over the next interval
					in.Sent(at.Add(time.Duration(k+1)*interval/61), 1)
				}
				sent += 60
			}
			e := in.Estimate(at.Add(interval), p)
			if short := e.Session < p.SessionDuration; short != tt.wantShort {
				t.Errorf("session length %v (rate %.0f/s), want short %v", e.Session, in.rate, tt.wantShort)
			}
			if w := int(e.Weight); w < tt.wantMin(e) || w > tt.wantMax(e) {
				t.Errorf("weight %d, want %d..%d (%+v)", w, tt.wantMin(e), tt.wantMax(e), e)
			}
		})
	}
}

package slots

import (
	"fmt"
	"math"
	"time"
)

// Report is what an instance says about its session slots.
type Report struct {
	Max        int       // slots the instance was given (MaxSessions)
	Available  int       // free slots when measured
	MeasuredAt time.Time // when the instance counted; the report's age runs from here
	Draining   bool      // stopping: take no new sessions
}

// Instance is a router's view of one instance's slots. The zero value is
// an instance that has not reported yet.
type Instance struct {
	last     Report
	reported bool
	mean     float64  // EWMA of use
	variance float64  // exponentially weighted variance of use
	sent     []bucket // sessions this router sent that no report shows yet
}

// Observe folds a report into the instance's statistics. A report
// measured before the last one is rejected (reports can overtake each
// other on the network) and the instance is left unchanged.
func (in *Instance) Observe(r Report, p Params) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if r.Max < 0 || r.Available < 0 || r.Available > r.Max {
		return fmt.Errorf("%w: report with %d of %d slots free", ErrInvalid, r.Available, r.Max)
	}
	use := float64(r.Max - r.Available)
	if !in.reported {
		in.last, in.reported, in.mean, in.variance = r, true, use, 0
		in.prune()
		return nil
	}
	dt := r.MeasuredAt.Sub(in.last.MeasuredAt)
	if dt < 0 {
		return fmt.Errorf("%w: report measured at %v is older than the last one (%v)", ErrInvalid, r.MeasuredAt, in.last.MeasuredAt)
	}
	// Time-based α: a new sample weighs as much as the share of Tau that
	// elapsed since the last one, so bursts of reports do not flush the
	// history and a report after a long gap does.
	alpha := -math.Expm1(-dt.Seconds() / p.Tau.Seconds())
	d := use - in.mean
	in.mean += alpha * d
	in.variance = (1 - alpha) * (in.variance + alpha*d*d)
	in.last = r
	in.prune()
	return nil
}

// Estimate is the router's belief about an instance at some time; every
// term of the headroom rule is here so that operators can see why an
// instance gets the weight it gets.
type Estimate struct {
	Live       bool          // reported, not draining, last report not older than Timeout
	Free       int           // free slots in the last report
	Mean       float64       // moving average of slots in use
	Sigma      float64       // moving standard deviation of slots in use
	Age        time.Duration // now − MeasuredAt of the last report
	Rate       float64       // new sessions per second in steady state: Mean / SessionDuration
	Sent       int           // sessions this router sent since the report was measured
	Arrivals   float64       // Sent + (1 − Share)·Rate·Age: slots taken since the report
	Departures float64       // sessions in the report expected to end by now + Horizon
	Headroom   float64       // Arrivals + K·(standard deviation over Age + Horizon)
	Weight     uint32        // floor(Free + Departures − Headroom + Spend) ≥ 0; 0 unless Live
}

// Estimate applies the headroom rule at time now.
func (in Instance) Estimate(now time.Time, p Params) Estimate {
	if !in.reported {
		return Estimate{}
	}
	T := p.SessionDuration.Seconds()
	age := now.Sub(in.last.MeasuredAt)
	e := Estimate{
		Live:  !in.last.Draining && age <= p.Timeout,
		Free:  in.last.Available,
		Mean:  in.mean,
		Sigma: math.Sqrt(in.variance),
		Age:   age,
		Rate:  in.mean / T,
		Sent:  in.sentSince(in.last.MeasuredAt),
	}
	a := max(age.Seconds(), 0) // a report from the future counts as fresh
	span := a + p.Horizon.Seconds()
	used := float64(in.last.Max - in.last.Available)
	q := -math.Expm1(-span / T) // chance that a given session ends within span
	e.Arrivals = float64(e.Sent) + (1-p.Share)*e.Rate*a
	e.Departures = used * q
	// Two uncertainties: which sessions end (binomial), and how far use
	// wanders from the report (mean-reverting over a session length).
	variance := used*q*(1-q) + in.variance*-math.Expm1(-2*span/T)
	e.Headroom = e.Arrivals + p.K*math.Sqrt(variance)
	if e.Live {
		e.Weight = uint32(max(0, math.Floor(float64(e.Free)+e.Departures-e.Headroom+p.Spend)))
	}
	return e
}

// Weights returns the weight of every instance at time now, in order.
// When the rule leaves every instance at 0, live instances fall back to
// the free slots they are expected to have, Free − Arrivals + Departures,
// without headroom: refusing every new session for sure is worse than
// betting on the instances most likely to have room. All 0 remains when
// no slot is expected anywhere.
func Weights(ins []Instance, now time.Time, p Params) ([]uint32, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	w := make([]uint32, len(ins))
	est := make([]Estimate, len(ins))
	var total uint64
	for i, in := range ins {
		est[i] = in.Estimate(now, p)
		w[i] = est[i].Weight
		total += uint64(w[i])
	}
	if total > 0 {
		return w, nil
	}
	for i, e := range est {
		if e.Live {
			w[i] = uint32(max(0, math.Round(float64(e.Free)-e.Arrivals+e.Departures)))
		}
	}
	return w, nil
}

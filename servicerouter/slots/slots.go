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
	rate     float64  // EWMA of the sessions per second this router sends
	growth   float64  // EWMA of the change in use per session sent, in [-1, 1]
	grew     bool     // growth has a sample
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
	if dt > 0 {
		sent := in.sentSince(in.last.MeasuredAt) - in.sentSince(r.MeasuredAt)
		in.rate += alpha * (float64(sent)/dt.Seconds() - in.rate)
		if sent > 0 {
			g := min(max((use-float64(in.last.Max-in.last.Available))/float64(sent), -1), 1)
			if !in.grew {
				in.growth, in.grew = g, true // the first sample is the evidence there is
			}
			in.growth += alpha * (g - in.growth)
		}
	}
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
	Session    time.Duration // mean session length T: measured, else SessionDuration
	SendRate   float64       // new sessions per second this router sends it (moving average over report intervals)
	Rate       float64       // new sessions per second in steady state: Mean / T
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
	used := float64(in.last.Max - in.last.Available)
	session := in.sessionLength(used, p)
	T := session.Seconds()
	age := now.Sub(in.last.MeasuredAt)
	e := Estimate{
		Live:     !in.last.Draining && age <= p.Timeout,
		Free:     in.last.Available,
		Mean:     in.mean,
		Sigma:    math.Sqrt(in.variance),
		Age:      age,
		Session:  session,
		SendRate: in.rate,
		Rate:     in.mean / T,
		Sent:     in.sentSince(in.last.MeasuredAt),
	}
	a := max(age.Seconds(), 0) // a report from the future counts as fresh
	span := a + p.Horizon.Seconds()
	q := -math.Expm1(-span / T) // chance that a given session ends within span
	// Sent sessions count whole until a report shows them, unless the
	// sessions are measured to be short: then most have already ended.
	e.Arrivals = float64(e.Sent) + (1-p.Share)*e.Rate*a
	if session < p.SessionDuration {
		e.Arrivals = in.sentInUse(now.Add(p.Horizon), session) + (1-p.Share)*e.Rate*a
	}
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

// MinSessionDuration bounds the measured session length from below: the
// reports' clock resolution.
const MinSessionDuration = time.Millisecond

// sessionLength is T, the mean session length. By Little's law it is the
// sessions in use over the rate they start at: with this router sending
// all of an instance's sessions (Share = 1) and a measured send rate, T is
// max(ū, used)/rate (the last report's use counts at once: a burst of long
// sessions must not wait for the average to see it), at least
// MinSessionDuration, when it is under a tenth of SessionDuration;
// otherwise SessionDuration.
func (in *Instance) sessionLength(used float64, p Params) time.Duration {
	if p.Share < 1 || in.rate <= 0 || !in.grew || in.growth > 0.5 {
		// Little's law holds in a steady state only: while use grows by
		// most of what is sent (a burst of long sessions), use over rate
		// is the time since the burst began, not the session length.
		return p.SessionDuration
	}
	t := time.Duration(max(in.mean, used) / in.rate * float64(time.Second))
	if t > p.SessionDuration/10 {
		// Near the configured length the measurement is mostly noise
		// (a few sends more in one report interval halve it); it only
		// corrects services whose sessions are much shorter.
		return p.SessionDuration
	}
	return max(t, MinSessionDuration)
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

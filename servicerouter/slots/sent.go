package slots

import (
	"math"
	"time"
)

// bucket counts the sessions sent within one sentGrain: memory stays
// bounded by the report age, not by the session rate.
type bucket struct {
	at time.Time // start of the grain
	n  int
}

// sentGrain is the bucket width.
const sentGrain = time.Millisecond

// Sent records that this router sent n new sessions to the instance at
// time at (from its own decisions, or from the per-backend new-flow
// counters of the XDP program); n ≤ 0 is ignored. Until a report measured after them
// arrives, they are taken slots that the reports do not show.
func (in *Instance) Sent(at time.Time, n int) {
	if n <= 0 {
		return
	}
	at = at.Truncate(sentGrain)
	if k := len(in.sent); k > 0 && in.sent[k-1].at.Equal(at) {
		in.sent[k-1].n += n
		return
	}
	in.sent = append(in.sent, bucket{at: at, n: n})
}

// sentSince counts the sessions sent after t. A bucket that straddles t
// counts whole: better to hold back a slot than to spend a taken one.
func (in *Instance) sentSince(t time.Time) int {
	n := 0
	for _, b := range in.sent {
		if b.at.Add(sentGrain).After(t) {
			n += b.n
		}
	}
	return n
}

// prune forgets the sends that the last report already shows.
func (in *Instance) prune() {
	keep := in.sent[:0]
	for _, b := range in.sent {
		if b.at.Add(sentGrain).After(in.last.MeasuredAt) {
			keep = append(keep, b)
		}
	}
	in.sent = keep
}

// sentInUse is how many of the sessions sent since the last report are
// expected to be still in use at time at, each ending at rate 1/T.
func (in *Instance) sentInUse(at time.Time, T time.Duration) float64 {
	n := 0.0
	for _, b := range in.sent {
		if !b.at.Add(sentGrain).After(in.last.MeasuredAt) {
			continue
		}
		age := max(at.Sub(b.at.Add(sentGrain)), 0)
		n += float64(b.n) * math.Exp(-age.Seconds()/T.Seconds())
	}
	return n
}

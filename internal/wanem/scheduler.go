package wanem

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Scheduler decides, packet by packet, what an Impairment does. It is
// deterministic for a given rand source and sequence of calls, and not safe
// for concurrent use: a relay owns one per direction.
//
// Ordering: packets never overtake each other. A packet whose jittered
// departure would fall before the previous packet's departure leaves with
// it instead (departure = max(own, previous)), as on a real WAN path where
// one queue feeds one wire. This differs from netem, which reorders with
// jitter unless told otherwise; TCP over a reordering link retransmits
// spuriously, which is rarely what a lab wants. The price: with jitter the
// mean delay rises slightly above Delay under load, and the departure
// queue is FIFO, so the relay needs no heap.
type Scheduler struct {
	imp  Impairment
	rng  *rand.Rand
	last time.Time // departure of the previous forwarded packet
	busy bool      // whether last is set
}

// NewScheduler returns a scheduler for imp drawing randomness from rng.
func NewScheduler(imp Impairment, rng *rand.Rand) (*Scheduler, error) {
	if err := imp.Validate(); err != nil {
		return nil, err
	}
	if rng == nil {
		return nil, fmt.Errorf("%w scheduler: nil rand source", ErrInvalid)
	}
	return &Scheduler{imp: imp, rng: rng}, nil
}

// Schedule returns when a packet of size bytes arriving at arrival departs,
// or ok false if it is lost. Loss is decided first (Bernoulli), so a lost
// packet uses no link time. Then:
//
//	departure = arrival + Delay + jitter            (never before arrival)
//	departure = max(departure, previous)            (no reordering)
//	departure = max(departure, previous + size*8/RateBps)  (serialisation)
//
// The first packet on an idle link leaves after its delay alone.
func (s *Scheduler) Schedule(size int, arrival time.Time) (departure time.Time, ok bool) {
	if s.imp.Loss > 0 && s.rng.Float64() < s.imp.Loss {
		return time.Time{}, false
	}
	d := s.imp.Delay + s.jitter()
	if d < 0 {
		d = 0
	}
	departure = arrival.Add(d)
	if s.busy {
		earliest := s.last
		if s.imp.RateBps > 0 {
			earliest = earliest.Add(TxTime(size, s.imp.RateBps))
		}
		if departure.Before(earliest) {
			departure = earliest
		}
	}
	s.last, s.busy = departure, true
	return departure, true
}

func (s *Scheduler) jitter() time.Duration {
	j := float64(s.imp.Jitter)
	if j == 0 {
		return 0
	}
	switch s.imp.Distribution {
	case Normal:
		return time.Duration(s.rng.NormFloat64() * j)
	default:
		return time.Duration((2*s.rng.Float64() - 1) * j)
	}
}

// TxTime is how long size bytes take on a link of rateBps bits per second
// (rateBps > 0), rounded down to the nanosecond.
func TxTime(size int, rateBps uint64) time.Duration {
	if size < 0 {
		size = 0
	}
	// size is a frame (at most 64 KiB with GSO): size*8*1e9 fits in uint64.
	return time.Duration(uint64(size) * 8 * uint64(time.Second) / rateBps)
}

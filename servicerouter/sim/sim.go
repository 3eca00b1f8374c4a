package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/stitchnfv/stitch/servicerouter/maglev"
	"github.com/stitchnfv/stitch/servicerouter/slots"
)

// ErrInvalid is wrapped by every configuration error.
var ErrInvalid = errors.New("sim: invalid config")

// Policy chooses the instance for a new session.
type Policy int

const (
	SlotAware    Policy = iota // Maglev weighted by free slots minus headroom
	StaticMaglev               // Maglev weighted by Max slots
	RoundRobin                 // instances in turn
)

func (p Policy) String() string {
	switch p {
	case SlotAware:
		return "slot-aware maglev"
	case StaticMaglev:
		return "static maglev"
	case RoundRobin:
		return "round robin"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// Config describes one run. Zero fields take the defaults in brackets.
type Config struct {
	Seed           uint64        // of the one random source: same seed, same result
	Policy         Policy        // [SlotAware]
	Slots          []int         // slots per instance [4 each of 10, 50, 200]
	Load           float64       // offered load over total slots [0.95]
	MeanDuration   time.Duration // mean session length [10 s]
	ReportInterval time.Duration // instances report their slots [100 ms]
	RebuildEvery   time.Duration // slot-aware router recomputes weights [20 ms]
	Staleness      time.Duration // report delay to the router [100 ms; 1 ns for fresh]
	Sessions       int           // sessions counted after warm-up [100,000]
	Warmup         time.Duration // uncounted start, to fill up [5·MeanDuration]
	TableSize      int           // Maglev table size [maglev.DefaultSize]
	// FullTable makes the Maglev policies build and update real tables.
	// By default they only apportion the entries (maglev.Quotas) and map a
	// flow hash to the backend owning that many entries: for uniformly
	// random flow hashes the choice has exactly the same distribution,
	// and a run costs O(instances) instead of O(M) per table update.
	FullTable bool
	// Params of the slot-aware policy [slots.DefaultParams with
	// SessionDuration = MeanDuration, Horizon = RebuildEvery].
	Params *slots.Params
}

// Result counts what happened to the sessions after warm-up.
type Result struct {
	Policy         Policy
	Sessions       int // new sessions
	Refused        int // sent to a full instance, or nowhere
	WronglyRefused int // refused while some instance had a free slot
	TableUpdates   int // slot-aware with FullTable: updates that changed entries
	EntriesChanged int // slot-aware with FullTable: entries they changed
}

// RefusedPct is Refused as a percentage of Sessions.
func (r Result) RefusedPct() float64 { return pct(r.Refused, r.Sessions) }

// WronglyRefusedPct is WronglyRefused as a percentage of Sessions.
func (r Result) WronglyRefusedPct() float64 { return pct(r.WronglyRefused, r.Sessions) }

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

// withDefaults fills zero fields and validates the result.
func (c Config) withDefaults() (Config, error) {
	if c.Slots == nil {
		c.Slots = []int{10, 10, 10, 10, 50, 50, 50, 50, 200, 200, 200, 200}
	}
	if c.Load == 0 {
		c.Load = 0.95
	}
	if c.MeanDuration == 0 {
		c.MeanDuration = 10 * time.Second
	}
	if c.ReportInterval == 0 {
		c.ReportInterval = 100 * time.Millisecond
	}
	if c.RebuildEvery == 0 {
		c.RebuildEvery = 20 * time.Millisecond
	}
	if c.Staleness == 0 {
		c.Staleness = 100 * time.Millisecond
	}
	if c.Sessions == 0 {
		c.Sessions = 100_000
	}
	if c.Warmup == 0 {
		c.Warmup = 5 * c.MeanDuration
	}
	if c.TableSize == 0 {
		c.TableSize = maglev.DefaultSize
	}
	if c.Params == nil {
		p := slots.DefaultParams()
		p.SessionDuration = c.MeanDuration
		p.Horizon = c.RebuildEvery
		c.Params = &p
	}
	total := 0
	for i, s := range c.Slots {
		if s <= 0 {
			return c, fmt.Errorf("%w: instance %d has %d slots", ErrInvalid, i, s)
		}
		total += s
	}
	switch {
	case len(c.Slots) == 0:
		return c, fmt.Errorf("%w: no instances", ErrInvalid)
	case !(c.Load > 0):
		return c, fmt.Errorf("%w: Load %v must be positive", ErrInvalid, c.Load)
	case c.MeanDuration < 0 || c.ReportInterval < 0 || c.RebuildEvery < 0 || c.Staleness < 0 || c.Warmup < 0:
		return c, fmt.Errorf("%w: negative duration", ErrInvalid)
	case c.Sessions < 0:
		return c, fmt.Errorf("%w: Sessions %d", ErrInvalid, c.Sessions)
	case c.Policy < SlotAware || c.Policy > RoundRobin:
		return c, fmt.Errorf("%w: unknown policy %v", ErrInvalid, c.Policy)
	}
	if err := c.Params.Validate(); err != nil {
		return c, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if _, err := maglev.Quotas(c.TableSize, nil); err != nil { // checks the size
		return c, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return c, nil
}

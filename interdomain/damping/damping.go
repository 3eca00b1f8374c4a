package damping

import (
	"math"
	"time"
)

// Config holds the damping parameters.
type Config struct {
	WithdrawPenalty   float64
	PathChangePenalty float64
	Suppress          float64 // suppress at or above this penalty
	Reuse             float64 // reuse once at or below this penalty
	HalfLife          time.Duration
	MaxSuppress       time.Duration
}

// RIPE580 returns the parameters RIPE-580 recommends.
func RIPE580() Config {
	return Config{
		WithdrawPenalty:   1000,
		PathChangePenalty: 500,
		Suppress:          6000,
		Reuse:             750,
		HalfLife:          15 * time.Minute,
		MaxSuppress:       60 * time.Minute,
	}
}

// Event is what happened to a route.
type Event int

// Events that add penalty.
const (
	Withdrawn Event = iota
	PathChanged
)

// ceiling is the largest penalty: one that decays to Reuse in exactly
// MaxSuppress, so no route is suppressed longer than that.
func (c Config) ceiling() float64 {
	return c.Reuse * math.Exp2(float64(c.MaxSuppress)/float64(c.HalfLife))
}

// State is the damping state of one route. The zero value is a route that
// never flapped.
type State struct {
	penalty    float64
	at         time.Time // when penalty was last computed
	suppressed bool
}

// Penalty returns the penalty decayed to now.
func (s *State) Penalty(c Config, now time.Time) float64 {
	if s.penalty == 0 || !now.After(s.at) {
		return s.penalty
	}
	return s.penalty * math.Exp2(-float64(now.Sub(s.at))/float64(c.HalfLife))
}

// Suppressed reports whether the route is currently held back.
func (s *State) Suppressed() bool { return s.suppressed }

// Record adds the penalty of ev at now and reports whether the route is
// suppressed afterwards.
func (s *State) Record(c Config, now time.Time, ev Event) bool {
	p := s.Penalty(c, now)
	switch ev {
	case Withdrawn:
		p += c.WithdrawPenalty
	case PathChanged:
		p += c.PathChangePenalty
	}
	s.penalty, s.at = min(p, c.ceiling()), now
	if s.penalty >= c.Suppress {
		s.suppressed = true
	}
	return s.suppressed
}

// Reuse re-evaluates a suppressed route at now and reports whether it has
// just become usable again.
func (s *State) Reuse(c Config, now time.Time) bool {
	if !s.suppressed {
		return false
	}
	// A tiny tolerance absorbs the rounding of ReuseAt to a nanosecond.
	if s.Penalty(c, now) <= c.Reuse*(1+1e-9) {
		s.suppressed = false
		return true
	}
	return false
}

// ReuseAt returns when a suppressed route becomes usable, if nothing else
// happens to it; the zero time if it is not suppressed.
func (s *State) ReuseAt(c Config) time.Time {
	if !s.suppressed {
		return time.Time{}
	}
	halves := math.Log2(s.penalty / c.Reuse)
	return s.at.Add(time.Duration(math.Ceil(halves * float64(c.HalfLife))))
}

// Forgettable reports whether the state can be dropped: not suppressed and
// decayed to under half the reuse threshold, as RFC 2439 suggests, so that
// the damping table does not grow with every route ever seen.
func (s *State) Forgettable(c Config, now time.Time) bool {
	return !s.suppressed && s.Penalty(c, now) < c.Reuse/2
}

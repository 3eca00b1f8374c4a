package samplekit

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Policy is how a Picker chooses among healthy candidates.
type Policy string

const (
	RoundRobin Policy = "round-robin"
	LeastConn  Policy = "least-conn"
)

// ParsePolicy checks a --policy flag value.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case RoundRobin, LeastConn:
		return p, nil
	}
	return "", fmt.Errorf("unknown policy %q (want %s or %s)", s, RoundRobin, LeastConn)
}

// DefaultBadFor is how long a candidate is avoided after a failure.
const DefaultBadFor = 2 * time.Second

// Picker chooses an address among the current candidates with passive
// health: one that failed to dial is skipped for BadFor. The candidate set
// is passed on every call (it comes from Bindings and may change between
// calls), so the Picker keeps only per-address marks and counters.
type Picker struct {
	policy Policy
	badFor time.Duration
	now    func() time.Time

	mu     sync.Mutex
	turn   uint64
	bad    map[string]time.Time // address → avoided until
	active map[string]int       // address → requests in flight (least-conn)
}

// NewPicker returns a Picker; now may be nil (time.Now).
func NewPicker(policy Policy, badFor time.Duration, now func() time.Time) *Picker {
	if policy == "" {
		policy = RoundRobin
	}
	if badFor <= 0 {
		badFor = DefaultBadFor
	}
	if now == nil {
		now = time.Now
	}
	return &Picker{policy: policy, badFor: badFor, now: now, bad: map[string]time.Time{}, active: map[string]int{}}
}

// Pick chooses among candidates minus exclude (the addresses a caller has
// already tried). When every remaining candidate is marked bad it still
// returns one: marks are a guess made from a single failure, and trying is
// better than refusing everything. done must be called when the request
// ends; ok is false when nothing is left to try.
func (p *Picker) Pick(candidates []string, exclude ...string) (addr string, done func(), ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	var healthy, all []string
	for _, c := range candidates {
		if slices.Contains(exclude, c) {
			continue
		}
		all = append(all, c)
		if until, marked := p.bad[c]; marked {
			if now.Before(until) {
				continue
			}
			delete(p.bad, c)
		}
		healthy = append(healthy, c)
	}
	if len(all) == 0 {
		return "", nil, false
	}
	if len(healthy) == 0 {
		healthy = all
	}
	start := int(p.turn % uint64(len(healthy)))
	p.turn++
	addr = healthy[start]
	if p.policy == LeastConn {
		// Scan from the round-robin start so ties rotate.
		for i := range healthy {
			c := healthy[(start+i)%len(healthy)]
			if p.active[c] < p.active[addr] {
				addr = c
			}
		}
	}
	p.active[addr]++
	var once sync.Once
	return addr, func() { once.Do(func() { p.release(addr) }) }, true
}

func (p *Picker) release(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.active[addr]--; p.active[addr] <= 0 {
		delete(p.active, addr)
	}
}

// MarkFailed avoids addr for the Picker's BadFor.
func (p *Picker) MarkFailed(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bad[addr] = p.now().Add(p.badFor)
}

// Healthy reports whether addr is not currently marked bad.
func (p *Picker) Healthy(addr string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	until, marked := p.bad[addr]
	return !marked || !p.now().Before(until)
}

package rib

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

// tombstone is the highest epoch an origin retracted for a service, and
// when that was learnt.
type tombstone struct {
	epoch uint64
	at    time.Time
}

// Tombstone returns the highest epoch of service that origin retracted, as
// long as the retraction is remembered.
func (t *RIB) Tombstone(service, origin string) (uint64, bool) {
	ts, ok := t.tombs[service][origin]
	return ts.epoch, ok
}

// Tombstones returns how many retractions are remembered.
func (t *RIB) Tombstones() int {
	n := 0
	for _, m := range t.tombs {
		n += len(m)
	}
	return n
}

// NewRetraction reports whether r retracts more than what is remembered of
// its origin and service: only such a retraction changes anything and is
// worth verifying and flooding.
func (t *RIB) NewRetraction(r wire.Retraction) bool {
	ts, ok := t.tombs[r.Service][r.Origin]
	return !ok || r.Epoch > ts.epoch
}

// CheckRetraction verifies r against its origin's known key. Refusals are
// counted.
func (t *RIB) CheckRetraction(r wire.Retraction) error {
	var pub []byte
	if t.cfg.Keys != nil {
		if k, ok := t.cfg.Keys.PublicKey(r.Origin); ok {
			pub = k
		}
	}
	if pub == nil {
		t.stats.UnknownRetractions++
		return fmt.Errorf("retraction of %q: %w %q", r.Service, ErrUnknownOrigin, r.Origin)
	}
	if err := wire.VerifyRetraction(r, pub); err != nil {
		t.stats.BadRetractions++
		return err
	}
	return nil
}

// Retract applies a retraction that the caller verified (CheckRetraction):
// it remembers the epoch, if higher than the one remembered, and drops every
// path with that origin and service and an epoch not above it, whichever
// peer it came from (and our own route only if we are the origin). It
// returns the change of best path, if any, and the peers whose paths were
// dropped, sorted ("" for our own). A retraction not newer than the
// remembered one changes nothing.
//
// now dates the tombstone for ExpireTombstones.
func (t *RIB) Retract(now time.Time, r wire.Retraction) (*Change, []string) {
	if !t.NewRetraction(r) {
		return nil, nil
	}
	m := t.tombs[r.Service]
	if m == nil {
		m = map[string]tombstone{}
		t.tombs[r.Service] = m
	}
	m[r.Origin] = tombstone{epoch: r.Epoch, at: now}
	if t.oldestTomb.IsZero() || now.Before(t.oldestTomb) {
		t.oldestTomb = now
	}
	if limit := t.maxTombstones(); len(m) > limit {
		// Forget the oldest: an origin flooding retractions of one
		// service cannot grow the table without bound.
		oldest := ""
		for o, ts := range m {
			if o != r.Origin && (oldest == "" || ts.at.Before(m[oldest].at) || ts.at.Equal(m[oldest].at) && o < oldest) {
				oldest = o
			}
		}
		delete(m, oldest)
	}
	var dropped []string
	var paths []Path
	if e := t.svcs[r.Service]; e != nil {
		paths = e.paths
	}
	for _, p := range paths {
		peer := p.Peer
		if p.Route.Origin != r.Origin || p.Route.Epoch > r.Epoch {
			continue
		}
		if p.Local() && r.Origin != t.cfg.LocalID {
			continue
		}
		dropped = append(dropped, peer)
	}
	if len(dropped) == 0 {
		return nil, nil
	}
	slices.Sort(dropped)
	for _, peer := range dropped {
		t.del(peer, r.Service)
	}
	return t.decide(r.Service), dropped
}

// ExpireTombstones forgets retractions older than the tombstone TTL. The
// fsm calls it on every Tick; it costs nothing until the oldest is due.
func (t *RIB) ExpireTombstones(now time.Time) {
	ttl := t.cfg.TombstoneTTL
	if ttl <= 0 {
		ttl = DefaultTombstoneTTL
	}
	if t.oldestTomb.IsZero() || now.Sub(t.oldestTomb) < ttl {
		return
	}
	t.oldestTomb = time.Time{}
	for _, s := range slices.Collect(maps.Keys(t.tombs)) {
		m := t.tombs[s]
		for o, ts := range m {
			switch {
			case now.Sub(ts.at) >= ttl:
				delete(m, o)
			case t.oldestTomb.IsZero() || ts.at.Before(t.oldestTomb):
				t.oldestTomb = ts.at
			}
		}
		if len(m) == 0 {
			delete(t.tombs, s)
		}
	}
}

func (t *RIB) maxTombstones() int {
	if t.cfg.MaxTombstones > 0 {
		return t.cfg.MaxTombstones
	}
	return DefaultMaxTombstones
}

// stale reports whether r's epoch was retracted by its origin.
func (t *RIB) stale(r wire.Route) bool {
	ts, ok := t.tombs[r.Service][r.Origin]
	return ok && r.Epoch <= ts.epoch
}

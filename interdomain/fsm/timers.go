package fsm

import (
	"maps"
	"slices"
	"time"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

// Tick advances the timers to now: hold expiry, keepalives, the end of a
// peer's graceful restart, damping reuse, MRAI batches and rate-limited slot
// updates.
func (s *Speaker) Tick(now time.Time) {
	s.rib.ExpireTombstones(now)
	s.applyPendingSlots(now)
	for _, id := range s.order {
		p := s.peers[id]
		if p.state != Idle && !p.holdAt.IsZero() && !now.Before(p.holdAt) {
			s.fail(now, p, wire.Notification{Code: wire.CodeHoldTimerExpired,
				Text: "nothing received for " + p.hold.String()})
		}
		if (p.state == OpenConfirm || p.state == Established) && !p.keepaliveAt.IsZero() && !now.Before(p.keepaliveAt) {
			s.sent(now, p, wire.Keepalive{})
		}
		if !p.staleAt.IsZero() && !now.Before(p.staleAt) {
			s.flushStale(now, p)
		}
		s.reuse(now, p)
	}
	s.flush(now)
}

// reuse releases damped routes whose penalty decayed, and forgets damping
// state that no longer matters.
func (s *Speaker) reuse(now time.Time, p *session) {
	if s.cfg.Damping == nil {
		return
	}
	c := *s.cfg.Damping
	for _, svc := range sortedKeys(p.damp) {
		st := p.damp[svc]
		if st.Reuse(c, now) {
			s.event(Event{Peer: p.cfg.ID, Kind: RouteReused, Service: svc})
			if ch := s.rib.SetSuppressed(p.cfg.ID, svc, false); ch != nil {
				s.changed(*ch)
			}
		}
		if st.Forgettable(c, now) {
			delete(p.damp, svc)
		}
	}
}

// NextDeadline returns when Tick must next be called; the zero time if no
// timer is running.
func (s *Speaker) NextDeadline() time.Time {
	var next time.Time
	at := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, l := range s.locals {
		if l.pending {
			at(l.appliedAt.Add(s.cfg.SlotInterval))
		}
	}
	for _, p := range s.peers {
		if p.state != Idle {
			at(p.holdAt)
		}
		if p.state == OpenConfirm || p.state == Established {
			at(p.keepaliveAt)
		}
		at(p.staleAt)
		if p.state == Established && !p.dirty.empty() {
			at(p.mraiAt)
		}
		if s.cfg.Damping != nil {
			for _, st := range p.damp {
				at(st.ReuseAt(*s.cfg.Damping))
			}
		}
	}
	return next
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

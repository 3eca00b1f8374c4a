package fsm

import (
	"slices"
	"time"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

// Retractions.
//
// A withdrawal tells a domain that one neighbour lost its path; its other
// neighbours' paths to the same origin may be just as dead, but their
// withdrawals are still on the way. Picking one of them is path hunting, and
// two domains picking each other's is a transient forwarding loop. The
// origin therefore signs a retraction of the service's epoch (the epoch its
// routes carry, signed with them) and sends it with its withdrawal; every
// domain that gets a retraction newer than what it remembers verifies it,
// drops every path to that origin and epoch at once, remembers it (a
// tombstone that refuses the retracted routes still in flight) and floods it
// on to its other established peers in the same UPDATE as the withdrawals it
// causes, exempt from the MRAI. The retraction thus travels ahead of, or
// with, every consequence of the withdrawal, and no domain ever selects a
// new path to the retracted origin.

// retractFrom handles a retraction received from p.
func (s *Speaker) retractFrom(now time.Time, p *session, r wire.Retraction) {
	if !s.rib.NewRetraction(r) {
		return // known already: it came over another link first
	}
	if err := s.rib.CheckRetraction(r); err != nil {
		s.event(Event{Peer: p.cfg.ID, Kind: RetractionRefused, Service: r.Service, Err: err})
		return
	}
	c, dropped := s.rib.Retract(now, r)
	// Each dropped path counts as its peer's withdrawal for flap damping,
	// as the withdrawals the retraction overtook would have.
	for _, id := range dropped {
		if q := s.peers[id]; q != nil {
			s.penalise(now, q, r.Service, 0)
		}
	}
	if c != nil {
		s.changed(*c)
	}
	if r.Origin == s.cfg.LocalID {
		// Our own retraction, of an epoch we still originate: we
		// restarted with a clock behind the one that signed it. Start a
		// newer epoch so that our route is not refused everywhere.
		if l := s.locals[r.Service]; l != nil && l.route.Epoch <= r.Epoch {
			l.route.Epoch = s.nextEpoch(now, r.Epoch)
			l.alone = nil // it covered the old epoch
			if err := wire.Sign(&l.route, s.cfg.Key); err == nil {
				if c := s.rib.Originate(l.route); c != nil {
					s.changed(*c)
				}
			}
		}
	}
	s.flood(r, p.cfg.ID)
}

// flood queues r for every established peer but from and the origin
// itself (it retracted the service; a copy coming back only costs an
// UPDATE), unless the peer's export policy hides the service (it has no
// route for it from us).
func (s *Speaker) flood(r wire.Retraction, from string) {
	for _, id := range s.order {
		p := s.peers[id]
		if id == from || id == r.Origin || p.state != Established {
			continue
		}
		if pol := p.cfg.Export.Services; pol != nil && !slices.Contains(pol, r.Service) {
			continue
		}
		p.retract = append(p.retract, r.Clone())
	}
}

package fsm

import (
	"errors"
	"fmt"
	"time"

	"github.com/stitchnfv/stitch/interdomain/damping"
	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

// Receive handles a message from peer. Protocol errors are answered with a
// NOTIFICATION and close the session; the error returned is only for misuse
// (an unknown peer).
func (s *Speaker) Receive(now time.Time, peer string, m wire.Message) error {
	return s.ReceiveVerified(now, peer, m, nil)
}

// ReceiveVerified is Receive for a message whose announced routes' origin
// signatures were already checked off the Speaker's goroutine: verdicts, if
// not nil, holds rib.Precheck's outcome for each route of an UPDATE's
// Announce, in order. The RIB takes a verdict instead of verifying again
// (see rib.RIB.CheckFromVerified); every other check is made as by
// Receive, and a route whose signature does not verify is refused and
// counted the same. Verdicts of the wrong length are ignored.
func (s *Speaker) ReceiveVerified(now time.Time, peer string, m wire.Message, verdicts []rib.Verdict) error {
	p, err := s.peer(peer)
	if err != nil {
		return err
	}
	if p.state == Idle {
		// A message racing the close of its stream: nothing to do.
		return nil
	}
	if p.hold > 0 {
		p.holdAt = now.Add(p.hold)
	}
	switch m := m.(type) {
	case wire.Open:
		s.onOpen(now, p, m)
	case wire.Keepalive:
		s.onKeepalive(now, p)
	case wire.Update:
		if s.expect(now, p, Established, m) {
			if len(verdicts) != len(m.Announce) {
				verdicts = nil
			}
			s.onUpdate(now, p, m, verdicts)
		}
	case wire.Notification:
		s.down(now, p, fmt.Errorf("from peer: %w", m), false)
	case wire.RouteRefresh:
		if s.expect(now, p, Established, m) {
			s.resend(now, p)
		}
	case wire.EndOfRIB:
		if s.expect(now, p, Established, m) {
			s.flushStale(now, p)
		}
	}
	s.flush(now)
	return nil
}

// ReceiveError reports a frame from peer that did not decode: the stream is
// out of sync, so the session is closed with a NOTIFICATION saying why.
func (s *Speaker) ReceiveError(now time.Time, peer string, cause error) error {
	p, err := s.peer(peer)
	if err != nil {
		return err
	}
	if p.state == Idle {
		return nil
	}
	code := wire.CodeMessage
	if p.state == Established && !errors.Is(cause, wire.ErrUnknownType) && !errors.Is(cause, wire.ErrOversize) {
		code = wire.CodeUpdate
	}
	s.fail(now, p, wire.Notification{Code: code, Text: truncate(cause.Error())})
	return nil
}

func truncate(s string) string {
	if len(s) > wire.MaxTextLen {
		s = s[:wire.MaxTextLen]
	}
	return s
}

// expect closes the session with an FSM error unless it is in state want.
func (s *Speaker) expect(now time.Time, p *session, want State, m wire.Message) bool {
	if p.state == want {
		return true
	}
	s.fail(now, p, wire.Notification{Code: wire.CodeFSM, Text: fmt.Sprintf("%v in state %v", m.Type(), p.state)})
	return false
}

func (s *Speaker) onOpen(now time.Time, p *session, o wire.Open) {
	if !s.expect(now, p, OpenSent, o) {
		return
	}
	switch {
	case o.DomainID != p.cfg.ID:
		s.fail(now, p, wire.Notification{Code: wire.CodeOpen, Subcode: wire.OpenBadPeerID,
			Text: truncate(fmt.Sprintf("expected domain %q, got %q", p.cfg.ID, o.DomainID))})
		return
	case o.Version != wire.Version:
		s.fail(now, p, wire.Notification{Code: wire.CodeOpen, Subcode: wire.OpenUnsupportedVersion,
			Text: fmt.Sprintf("version %d, we speak %d", o.Version, wire.Version)})
		return
	case o.HoldTime != 0 && o.HoldTime < MinHoldTime:
		s.fail(now, p, wire.Notification{Code: wire.CodeOpen, Subcode: wire.OpenUnacceptableHoldTime,
			Text: fmt.Sprintf("hold time %v below %v", o.HoldTime, MinHoldTime)})
		return
	}
	// Either side may disable the hold timer with 0, as in BGP.
	p.hold = min(s.cfg.HoldTime, o.HoldTime)
	p.holdAt = time.Time{}
	if p.hold > 0 {
		p.holdAt = now.Add(p.hold)
	}
	p.caps = o.Capabilities
	p.state = OpenConfirm
	s.sent(now, p, wire.Keepalive{})
}

func (s *Speaker) onKeepalive(now time.Time, p *session) {
	switch p.state {
	case OpenSent:
		s.expect(now, p, OpenConfirm, wire.Keepalive{})
	case OpenConfirm:
		p.state = Established
		s.event(Event{Peer: p.cfg.ID, Kind: SessionUp})
		if !p.staleAt.IsZero() && p.caps.RestartTime > 0 {
			// The restarted peer is back: give it a restart time again
			// to resend its table and END-OF-RIB.
			p.staleAt = now.Add(p.caps.RestartTime)
		}
		// Initial table transfer: everything, at once, then END-OF-RIB.
		for _, svc := range s.rib.Services() {
			p.dirty.add(svc)
		}
		s.flushPeer(now, p, true)
		s.sent(now, p, wire.EndOfRIB{})
	}
}

func (s *Speaker) onUpdate(now time.Time, p *session, u wire.Update, verdicts []rib.Verdict) {
	id := p.cfg.ID
	// Retractions first: they may remove paths the rest of the UPDATE
	// would otherwise replace one by one.
	for _, r := range u.Retract {
		s.retractFrom(now, p, r)
	}
	if max := p.cfg.MaxRoutes; max > 0 {
		// Count what the peer would hold after this UPDATE: withdrawals
		// apply first, and a service announced twice counts once.
		gone, added := map[string]bool{}, map[string]bool{}
		for _, w := range u.Withdraw {
			if _, ok := s.rib.Get(id, w); ok {
				gone[w] = true
			}
		}
		for _, r := range u.Announce {
			if _, ok := s.rib.Get(id, r.Service); !ok || gone[r.Service] {
				added[r.Service] = true
			}
		}
		n := s.rib.Count(id) - len(gone) + len(added)
		if n > max {
			s.fail(now, p, wire.Notification{Code: wire.CodeCease, Subcode: wire.CeaseMaxRoutes,
				Text: fmt.Sprintf("route limit exceeded: %d routes, maximum %d", n, max)})
			return
		}
	}
	// Most routes of an UPDATE change a best path: changed makes room
	// for their changes at once, not change by change.
	s.changeHint = len(u.Withdraw) + len(u.Announce)
	defer func() { s.changeHint = 0 }()
	for _, svc := range u.Withdraw {
		s.withdrawFrom(now, p, svc)
	}
	for i, r := range u.Announce {
		var v rib.Verdict
		if verdicts != nil {
			v = verdicts[i]
		}
		s.learnFrom(now, p, r, v)
	}
}

func (s *Speaker) withdrawFrom(now time.Time, p *session, svc string) {
	// Without damping nothing is penalised, and withdrawing what the
	// peer does not have changes nothing: no need to look it up first.
	if s.cfg.Damping != nil {
		if _, ok := s.rib.Get(p.cfg.ID, svc); !ok {
			return
		}
		s.penalise(now, p, svc, 0)
	}
	if c, ok := s.rib.WithdrawChange(p.cfg.ID, svc); ok {
		s.changed(c)
	}
}

func (s *Speaker) learnFrom(now time.Time, p *session, r wire.Route, v rib.Verdict) {
	id := p.cfg.ID
	if err := s.rib.CheckFromVerified(id, r, v); err != nil {
		// A stale route (its epoch retracted) was sent before the peer
		// heard of the retraction: counted, but not worth an event.
		if !errors.Is(err, rib.ErrStale) {
			s.event(Event{Peer: id, Kind: RouteRefused, Service: r.Service, Err: err})
		}
		// Treat as withdraw (RFC 7606): the peer no longer announces its
		// previous route for the service, and we refuse the new one.
		if c, ok := s.rib.WithdrawChange(id, r.Service); ok {
			s.changed(c)
		}
		return
	}
	suppressed := false
	// Without damping nothing is penalised or suppressed: no need to look
	// the previous route up.
	if s.cfg.Damping != nil {
		if old, ok := s.rib.Get(id, r.Service); ok && !old.Stale && pathChanged(old.Route, r) {
			suppressed = s.penalise(now, p, r.Service, 1)
		} else if st := p.damp[r.Service]; st != nil {
			suppressed = st.Suppressed()
		}
	}
	c, ok, err := s.rib.StoreChange(id, r, suppressed)
	if err != nil {
		// Unreachable: peer ids are configured and never empty.
		s.event(Event{Peer: id, Kind: RouteRefused, Service: r.Service, Err: err})
		return
	}
	if ok {
		s.changed(c)
	}
}

func pathChanged(a, b wire.Route) bool {
	if a.Origin != b.Origin || len(a.Path) != len(b.Path) {
		return true
	}
	for i := range a.Path {
		if a.Path[i] != b.Path[i] {
			return true
		}
	}
	return false
}

// penalise records a flap (kind 0: withdrawal, 1: path change) and reports
// whether the route is now suppressed.
func (s *Speaker) penalise(now time.Time, p *session, svc string, kind int) bool {
	if s.cfg.Damping == nil {
		return false
	}
	st := p.damp[svc]
	if st == nil {
		st = &damping.State{}
		p.damp[svc] = st
	}
	ev := damping.Withdrawn
	if kind == 1 {
		ev = damping.PathChanged
	}
	was := st.Suppressed()
	if st.Record(*s.cfg.Damping, now, ev) && !was {
		s.event(Event{Peer: p.cfg.ID, Kind: RouteSuppressed, Service: svc})
		if c := s.rib.SetSuppressed(p.cfg.ID, svc, true); c != nil {
			s.changed(*c)
		}
	}
	return st.Suppressed()
}

// resend answers a ROUTE-REFRESH with the whole Adj-RIB-Out and END-OF-RIB.
func (s *Speaker) resend(now time.Time, p *session) {
	for _, u := range wire.SplitUpdate(wire.Update{Announce: s.rib.AdjOut(p.cfg.ID)}, s.cfg.MaxMessageSize) {
		s.sent(now, p, u)
	}
	s.sent(now, p, wire.EndOfRIB{})
}

// flushStale ends a graceful restart: routes not re-announced are removed.
func (s *Speaker) flushStale(now time.Time, p *session) {
	if p.staleAt.IsZero() {
		return
	}
	p.staleAt = time.Time{}
	for _, c := range s.rib.FlushStale(p.cfg.ID) {
		s.changed(c)
	}
	s.event(Event{Peer: p.cfg.ID, Kind: StaleFlushed})
}

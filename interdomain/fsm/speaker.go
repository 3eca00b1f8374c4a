package fsm

import (
	"fmt"
	"slices"
	"time"

	"github.com/stitchnfv/stitch/interdomain/damping"
	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

// Speaker is one domain's protocol state: its sessions and its RIB.
type Speaker struct {
	cfg   Config
	rib   *rib.RIB
	peers map[string]*session
	order []string // peer ids, sorted, so outputs are deterministic
	// sessions are peers' sessions in the order of order.
	sessions []*session
	// changeHint is how many changes the UPDATE being handled may make.
	changeHint int
	locals     map[string]*local
	out        Output
	// lastEpoch is the epoch of the last service we started originating;
	// the next is later even if the clock is not.
	lastEpoch uint64
}

// session is the state of one neighbour.
type session struct {
	cfg   PeerConfig
	mrai  time.Duration
	state State
	// hold is the negotiated hold time; 0 disables the hold timer.
	hold        time.Duration
	holdAt      time.Time // the session dies if nothing arrives by then
	keepaliveAt time.Time // send a KEEPALIVE then if nothing else went
	caps        wire.Capabilities
	// mraiAt is the earliest time the next announcement batch may go.
	mraiAt time.Time
	// dirty holds services whose export to this peer may differ from
	// Adj-RIB-Out.
	dirty dirtySet
	damp  map[string]*damping.State
	// staleAt, when set, is when the peer's stale routes are flushed.
	staleAt time.Time
	// retract holds retractions to send with the next UPDATE, exempt from
	// the MRAI like withdrawals.
	retract []wire.Retraction
}

// New returns a Speaker with every session Idle.
func New(cfg Config) (*Speaker, error) {
	if err := cfg.normalise(); err != nil {
		return nil, err
	}
	s := &Speaker{
		cfg: cfg,
		rib: rib.New(rib.Config{
			LocalID: cfg.LocalID, Keys: cfg.Keys, Verifier: cfg.Verifier,
			Preference: cfg.Preference, Hysteresis: cfg.Hysteresis,
			TombstoneTTL: cfg.TombstoneTTL,
		}),
		peers:  map[string]*session{},
		locals: map[string]*local{},
	}
	for _, p := range cfg.Peers {
		mrai := cfg.MRAI
		if p.MRAI != 0 {
			mrai = max(p.MRAI, 0)
		}
		s.peers[p.ID] = &session{cfg: p, mrai: mrai, damp: map[string]*damping.State{}}
		s.order = append(s.order, p.ID)
	}
	slices.Sort(s.order)
	for _, id := range s.order {
		s.sessions = append(s.sessions, s.peers[id])
	}
	return s, nil
}

// ID returns the local domain id.
func (s *Speaker) ID() string { return s.cfg.LocalID }

// RIB gives read access to the routing state, for the CLI and the service
// router. Callers must not modify it.
func (s *Speaker) RIB() *rib.RIB { return s.rib }

// Ready returns and clears the pending output.
func (s *Speaker) Ready() Output {
	o := s.out
	s.out = Output{}
	return o
}

// PeerStatus is a session as the CLI shows it.
type PeerStatus struct {
	ID       string
	State    State
	HoldTime time.Duration
	Received int // routes in Adj-RIB-In
	Sent     int // routes in Adj-RIB-Out
	Stale    bool
}

// Peers returns every configured session, sorted by id.
func (s *Speaker) Peers() []PeerStatus {
	out := make([]PeerStatus, 0, len(s.order))
	for _, id := range s.order {
		p := s.peers[id]
		out = append(out, PeerStatus{
			ID: id, State: p.state, HoldTime: p.hold,
			Received: s.rib.Count(id), Sent: len(s.rib.AdjOut(id)), Stale: !p.staleAt.IsZero(),
		})
	}
	return out
}

// State returns the state of a session.
func (s *Speaker) State(peer string) State {
	if p := s.peers[peer]; p != nil {
		return p.state
	}
	return Idle
}

func (s *Speaker) peer(id string) (*session, error) {
	p := s.peers[id]
	if p == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownPeer, id)
	}
	return p, nil
}

func (s *Speaker) send(peer string, m wire.Message) {
	s.out.Messages = append(s.out.Messages, Outbound{Peer: peer, Msg: m})
}

func (s *Speaker) event(e Event) { s.out.Events = append(s.out.Events, e) }

// Connected starts the session with peer over a new stream: we send OPEN.
func (s *Speaker) Connected(now time.Time, peer string) error {
	p, err := s.peer(peer)
	if err != nil {
		return err
	}
	if p.state != Idle {
		return fmt.Errorf("connect %q: %w (%v)", peer, ErrNotIdle, p.state)
	}
	s.send(peer, wire.Open{
		Version:  wire.Version,
		DomainID: s.cfg.LocalID,
		HoldTime: s.cfg.HoldTime,
		Capabilities: wire.Capabilities{
			RouteRefresh:    true,
			GracefulRestart: s.cfg.RestartTime > 0,
			RestartTime:     max(s.cfg.RestartTime, 0),
			BatchSignatures: !s.cfg.DisableBatchSignatures,
		},
	})
	p.state = OpenSent
	// Until OPENs are exchanged, our own hold time bounds the wait.
	p.hold = s.cfg.HoldTime
	p.holdAt = now.Add(p.hold)
	return nil
}

// Disconnected reports that peer's stream failed or closed without a
// NOTIFICATION. If the peer announced graceful restart, its routes are kept
// as stale for its restart time; otherwise they are withdrawn.
func (s *Speaker) Disconnected(now time.Time, peer string, cause error) error {
	p, err := s.peer(peer)
	if err != nil {
		return err
	}
	if p.state == Idle {
		return nil
	}
	s.down(now, p, fmt.Errorf("stream lost: %w", cause), true)
	return nil
}

// Shutdown closes the session administratively, telling the peer why.
func (s *Speaker) Shutdown(now time.Time, peer, reason string) error {
	p, err := s.peer(peer)
	if err != nil {
		return err
	}
	if p.state != Idle {
		s.fail(now, p, wire.Notification{Code: wire.CodeCease, Subcode: wire.CeaseAdminShutdown, Text: reason})
	}
	return nil
}

// RequestRefresh asks an established peer to resend its routes.
func (s *Speaker) RequestRefresh(now time.Time, peer string) error {
	p, err := s.peer(peer)
	if err != nil {
		return err
	}
	if p.state != Established || !p.caps.RouteRefresh {
		return fmt.Errorf("refresh %q: %w", peer, ErrNotUp)
	}
	s.sent(now, p, wire.RouteRefresh{})
	return nil
}

// sent queues m and, since the peer now heard from us, postpones the next
// KEEPALIVE.
func (s *Speaker) sent(now time.Time, p *session, m wire.Message) {
	s.send(p.cfg.ID, m)
	if p.hold > 0 {
		p.keepaliveAt = now.Add(p.hold / 3)
	}
}

// fail sends a NOTIFICATION and closes the session. The peer's routes are
// withdrawn: graceful restart covers failures, not errors.
func (s *Speaker) fail(now time.Time, p *session, n wire.Notification) {
	s.send(p.cfg.ID, n)
	s.down(now, p, n, false)
}

// down closes the session and deals with what was learnt from the peer.
func (s *Speaker) down(now time.Time, p *session, cause error, keepIfRestarting bool) {
	wasUp := p.state == Established
	s.out.Close = append(s.out.Close, p.cfg.ID)
	p.state = Idle
	p.hold, p.holdAt, p.keepaliveAt, p.mraiAt = 0, time.Time{}, time.Time{}, time.Time{}
	p.dirty.clear()
	p.retract = nil
	s.rib.ClearOut(p.cfg.ID)
	s.event(Event{Peer: p.cfg.ID, Kind: SessionDown, Err: cause})
	restarting := !p.staleAt.IsZero()
	if keepIfRestarting && (wasUp || restarting) && p.caps.GracefulRestart && p.caps.RestartTime > 0 {
		// Routes the peer re-sent since an earlier restart are stale again;
		// a restart timer already running keeps running, as in BGP, so a
		// peer that keeps failing cannot hold its routes forever.
		if n := s.rib.MarkStale(p.cfg.ID); n > 0 {
			if !restarting {
				p.staleAt = now.Add(p.caps.RestartTime)
			}
			s.event(Event{Peer: p.cfg.ID, Kind: PeerRestarting})
		}
		return
	}
	p.staleAt = time.Time{}
	for _, c := range s.rib.DropPeer(p.cfg.ID) {
		s.changed(c)
	}
	s.flush(now)
}

// changed records a Loc-RIB change and marks the service for re-export to
// every established peer.
func (s *Speaker) changed(c rib.Change) {
	if s.out.Changes == nil && s.changeHint > 1 {
		s.out.Changes = make([]rib.Change, 0, s.changeHint)
	}
	s.out.Changes = append(s.out.Changes, c)
	for _, p := range s.sessions {
		if p.state == Established {
			p.dirty.add(c.Service)
		}
	}
}

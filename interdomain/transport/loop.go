package transport

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"

	"github.com/stitchnfv/stitch/interdomain/fsm"
	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

var errReplaced = errors.New("replaced by a new stream from the peer")

// run is the loop that owns the Speaker.
func (n *Node) run() {
	defer close(n.loopDone)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-n.stop:
			timer.Stop()
			for d, c := range n.conns {
				c.kill()
				delete(n.conns, d)
			}
			return
		case f := <-n.events:
			f(time.Now())
		case <-timer.C:
			n.sp.Tick(time.Now())
		}
		n.process()
		if next := n.sp.NextDeadline(); next.IsZero() {
			timer.Stop()
		} else {
			timer.Reset(max(time.Until(next), 0))
		}
	}
}

// process carries out the Speaker's output: the RIB changes to the log and
// subscribers, then messages to the peers' writers in order, then the
// closes. Changes go first so that they are recorded before anything they
// cause at a neighbour: a timeline merged from several domains' logs then
// never shows an effect before its cause (a neighbour moving to a path we
// have already left, say, which would look like a loop).
func (n *Node) process() {
	o := n.sp.Ready()
	for _, ch := range o.Changes {
		n.logChange(ch)
		for s := range n.subs {
			s.push(cloneChange(ch))
		}
	}
	for _, m := range o.Messages {
		if c := n.conns[m.Peer]; c != nil {
			c.send(m.Msg)
		}
	}
	for _, d := range o.Close {
		if c := n.conns[d]; c != nil {
			delete(n.conns, d)
			c.closeAfter()
		}
	}
	for _, e := range o.Events {
		n.logEvent(e)
	}
}

// attach makes c the stream of its domain and starts the session on it.
func (n *Node) attach(now time.Time, c *conn) {
	if old := n.conns[c.domain]; old != nil {
		delete(n.conns, c.domain)
		old.kill()
		_ = n.sp.Disconnected(now, c.domain, errReplaced)
		n.process()
	}
	n.conns[c.domain] = c
	if err := n.sp.Connected(now, c.domain); err != nil {
		n.log.Error("session start", "peer", c.domain, "err", err)
		delete(n.conns, c.domain)
		c.kill()
		return
	}
	n.log.Debug("stream up", "peer", c.domain, "dialled", c.dialled)
	c.start()
}

func (n *Node) streamDown(now time.Time, c *conn, cause error) {
	c.kill()
	if n.conns[c.domain] != c {
		return
	}
	delete(n.conns, c.domain)
	n.log.Debug("stream down", "peer", c.domain, "err", cause)
	_ = n.sp.Disconnected(now, c.domain, cause)
}

// deliver hands m to the Speaker with the verdicts of its announced routes'
// signatures (see precheck), if any.
func (n *Node) deliver(now time.Time, c *conn, m wire.Message, verdicts []rib.Verdict) {
	if n.conns[c.domain] == c {
		_ = n.sp.ReceiveVerified(now, c.domain, m, verdicts)
	}
}

func (n *Node) receiveError(now time.Time, c *conn, err error) {
	if n.conns[c.domain] != c {
		c.kill()
		return
	}
	{
		n.log.Warn("undecodable frame", "peer", c.domain, "err", err)
		_ = n.sp.ReceiveError(now, c.domain, err)
	}
}

// logChange logs a Loc-RIB change at debug level. BenchmarkConvergence50
// traces routing from these two messages and their attributes.
func (n *Node) logChange(ch rib.Change) {
	// Checked first: building the attributes allocates, for every change
	// of a table of 100,000 routes, even when debug is off.
	if !n.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	if ch.New == nil {
		n.log.Debug("route lost", "service", ch.Service)
		return
	}
	n.log.Debug("best route", "service", ch.Service, "peer", ch.New.Peer, "path", ch.New.Route.Path, "reason", ch.New.Reason)
}

func (n *Node) logEvent(e fsm.Event) {
	attrs := []any{"peer", e.Peer, "event", e.Kind.String()}
	if e.Service != "" {
		attrs = append(attrs, "service", e.Service)
	}
	if e.Err != nil {
		attrs = append(attrs, "err", e.Err)
	}
	switch e.Kind {
	case fsm.RouteRefused, fsm.RetractionRefused, fsm.SessionDown:
		n.log.Warn("interdomain session", attrs...)
	default:
		n.log.Info("interdomain session", attrs...)
	}
}

// dialLoop keeps a stream open to p, which we must dial, redialling with
// exponential back-off and jitter.
func (n *Node) dialLoop(p Peer) {
	defer n.wg.Done()
	backoff := n.cfg.MinBackoff
	for {
		c, err := n.open(p)
		if err == nil {
			if !n.post(func(now time.Time) { n.attach(now, c) }) {
				_ = c.s.Reset()
				return
			}
			select {
			case <-c.done:
			case <-n.ctx.Done():
				return
			}
			if time.Since(c.since) > n.cfg.MaxBackoff {
				backoff = n.cfg.MinBackoff // it was stable: retry soon
			}
		} else if n.ctx.Err() == nil {
			n.log.Debug("dial failed", "peer", p.Domain, "err", err, "retry_in", backoff)
		}
		// Wait between half and all of the back-off.
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-time.After(wait):
		case <-n.ctx.Done():
			return
		}
		backoff = min(2*backoff, n.cfg.MaxBackoff)
	}
}

// open connects to p and opens the session's stream.
func (n *Node) open(p Peer) (*conn, error) {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.DialTimeout)
	defer cancel()
	// Our own back-off governs redials, not the swarm's (5 s and more
	// after a failed dial, which would delay a restarted neighbour).
	if sw, ok := n.host.Network().(*swarm.Swarm); ok {
		sw.Backoff().Clear(p.ID)
	}
	if err := n.host.Connect(ctx, peer.AddrInfo{ID: p.ID, Addrs: p.Addrs}); err != nil {
		return nil, err
	}
	s, err := n.host.NewStream(network.WithNoDial(ctx, "connected"), p.ID, protocol.ID(wire.ProtocolID))
	if err != nil {
		return nil, err
	}
	return newConn(n, p.Domain, s, true), nil
}

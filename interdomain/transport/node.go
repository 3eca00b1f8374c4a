package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/stitchnfv/stitch/interdomain/fsm"
	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

// ErrClosed is returned by the methods of a closed Node.
var ErrClosed = errors.New("transport node closed")

// protectTag marks neighbour connections in the connection manager.
const protectTag = "stitch-svcroute"

// Node is one domain's protocol speaker on a libp2p host.
type Node struct {
	cfg   Config
	log   *slog.Logger
	host  host.Host
	gater *gater
	self  peer.ID
	peers map[string]*Peer  // by domain; read-only
	byID  map[peer.ID]*Peer // read-only

	events    chan func(now time.Time)
	stop      chan struct{} // closed when the loop must stop
	loopDone  chan struct{}
	ctx       context.Context // cancelled on Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup // every goroutine but the loop
	closeOnce sync.Once

	// Frames written and decoded, by message type, over every stream.
	sent, received [wire.TypeEndOfRIB + 1]atomic.Uint64

	// keys are the origin keys the Speaker uses too; read-only, shared with
	// the stream readers, which verify origin signatures (see precheck).
	keys rib.KeyStore
	// verifier remembers verified batch roots; shared with the Speaker.
	verifier *wire.Verifier
	// verifySem bounds the goroutines verifying signatures, over every
	// stream, to GOMAXPROCS.
	verifySem chan struct{}

	// Owned by the loop goroutine.
	sp    *fsm.Speaker
	conns map[string]*conn // current stream per domain
	subs  map[*subscriber]struct{}
}

// New starts a Node: its host listens, and it dials the neighbours it must
// dial. The node runs until Close or until ctx is done.
func New(ctx context.Context, cfg Config) (*Node, error) {
	ks, err := cfg.check()
	if err != nil {
		return nil, err
	}
	pc := cfg.Protocol
	pc.LocalID, pc.Key, pc.Keys, pc.Peers = cfg.Domain, cfg.Key, ks, nil
	if pc.Verifier == nil {
		pc.Verifier = wire.NewVerifier(fsm.DefaultVerifierRoots)
	}
	for _, p := range cfg.Peers {
		pc.Peers = append(pc.Peers, fsm.PeerConfig{ID: p.Domain, Export: p.Export, MaxRoutes: p.MaxRoutes, MRAI: p.MRAI})
	}
	sp, err := fsm.New(pc)
	if err != nil {
		return nil, err
	}
	// One call: the services are signed as batches and flushed once.
	if err := sp.AnnounceAll(time.Now(), cfg.Local); err != nil {
		return nil, err
	}
	sp.Ready() // no session is up: nothing to send

	n := &Node{
		cfg: cfg, log: cfg.Logger.With("domain", cfg.Domain),
		peers: map[string]*Peer{}, byID: map[peer.ID]*Peer{},
		events: make(chan func(time.Time), 64), stop: make(chan struct{}), loopDone: make(chan struct{}),
		sp: sp, conns: map[string]*conn{}, subs: map[*subscriber]struct{}{},
		keys: ks, verifier: pc.Verifier, verifySem: make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
	n.gater = &gater{allowed: map[peer.ID]bool{}, log: n.log}
	for i := range cfg.Peers {
		p := &cfg.Peers[i]
		n.peers[p.Domain], n.byID[p.ID] = p, p
		n.gater.allowed[p.ID] = true
	}
	key := cfg.Key
	priv, _, err := crypto.KeyPairFromStdKey(&key)
	if err != nil {
		return nil, err
	}
	cm, err := connmgr.NewConnManager(cfg.ConnLow, cfg.ConnHigh)
	if err != nil {
		return nil, err
	}
	opts := []libp2p.Option{
		libp2p.Identity(priv),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.ConnectionGater(n.gater),
		libp2p.ConnectionManager(cm),
		libp2p.DisableRelay(),
		libp2p.Ping(false),
	}
	if len(cfg.Listen) > 0 {
		opts = append(opts, libp2p.ListenAddrs(cfg.Listen...))
	} else {
		opts = append(opts, libp2p.NoListenAddrs)
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("libp2p host: %w", err)
	}
	n.host, n.self = h, h.ID()
	for _, p := range cfg.Peers {
		h.Peerstore().AddAddrs(p.ID, p.Addrs, peerstore.PermanentAddrTTL)
		h.ConnManager().Protect(p.ID, protectTag)
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	h.SetStreamHandler(protocol.ID(wire.ProtocolID), n.accept)

	go n.run()
	for _, p := range cfg.Peers {
		if n.dials(p.ID) {
			n.wg.Add(1)
			go n.dialLoop(p)
		}
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		select {
		case <-ctx.Done():
			go n.Close()
		case <-n.ctx.Done():
		}
	}()
	n.log.Info("interdomain transport up", "peer_id", n.self, "addrs", h.Addrs())
	return n, nil
}

// dials reports whether we open the stream to p: the lower peer ID does.
func (n *Node) dials(p peer.ID) bool { return n.self < p }

// ID returns the node's peer ID.
func (n *Node) ID() peer.ID { return n.self }

// Domain returns the local domain id.
func (n *Node) Domain() string { return n.cfg.Domain }

// Addrs returns the addresses the host listens on.
func (n *Node) Addrs() []ma.Multiaddr { return n.host.Addrs() }

// Host returns the libp2p host, for inspection; do not set handlers on
// wire.ProtocolID.
func (n *Node) Host() host.Host { return n.host }

// Close tells every established neighbour that we are shutting down (a
// NOTIFICATION, so they withdraw our routes at once rather than waiting for
// a restart), waits briefly for those to be written, and stops.
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var pending []*conn
		_ = n.do(ctx, func(now time.Time) {
			for _, c := range n.conns {
				pending = append(pending, c)
			}
			for _, id := range slices.Sorted(maps.Keys(n.peers)) {
				_ = n.sp.Shutdown(now, id, "domain shutting down")
			}
		})
		for _, c := range pending {
			select {
			case <-c.done:
			case <-ctx.Done():
			}
		}
		cancel()
		n.cancel()
		close(n.stop)
		<-n.loopDone
		err = n.host.Close()
		n.wg.Wait()
	})
	return err
}

// post hands f to the loop; false if the node stopped.
func (n *Node) post(f func(now time.Time)) bool {
	select {
	case n.events <- f:
		return true
	case <-n.stop:
		return false
	}
}

// do runs f on the loop and waits for it.
func (n *Node) do(ctx context.Context, f func(now time.Time)) error {
	done := make(chan struct{})
	g := func(now time.Time) { f(now); close(done) }
	select {
	case n.events <- g:
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stop:
		return ErrClosed
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stop:
		select {
		case <-done:
			return nil
		default:
			return ErrClosed
		}
	}
}

// Announce originates or updates a local service (see fsm.Speaker.Announce
// for the rate limit on slot changes).
func (n *Node) Announce(ctx context.Context, svc fsm.LocalService) error {
	var err error
	if e := n.do(ctx, func(now time.Time) { err = n.sp.Announce(now, svc) }); e != nil {
		return e
	}
	return err
}

// AnnounceAll originates or updates local services together, signed as
// batches (see fsm.Speaker.AnnounceAll): if one is invalid, none is.
func (n *Node) AnnounceAll(ctx context.Context, svcs []fsm.LocalService) error {
	// The loop may still read the list after ctx made us return.
	svcs = slices.Clone(svcs)
	var err error
	if e := n.do(ctx, func(now time.Time) { err = n.sp.AnnounceAll(now, svcs) }); e != nil {
		return e
	}
	return err
}

// Withdraw stops originating a local service.
func (n *Node) Withdraw(ctx context.Context, name string) error {
	return n.do(ctx, func(now time.Time) { n.sp.Withdraw(now, name) })
}

// Refresh asks an established neighbour to resend its routes.
func (n *Node) Refresh(ctx context.Context, domain string) error {
	var err error
	if e := n.do(ctx, func(now time.Time) { err = n.sp.RequestRefresh(now, domain) }); e != nil {
		return e
	}
	return err
}

// Routes returns the Loc-RIB: each service's best path and why it won.
func (n *Node) Routes(ctx context.Context) ([]rib.Best, error) {
	var out []rib.Best
	err := n.do(ctx, func(time.Time) {
		for _, b := range n.sp.RIB().LocRIB() {
			out = append(out, cloneBest(b))
		}
	})
	return out, err
}

// Candidates returns every path known for a service (Adj-RIB-In and local).
func (n *Node) Candidates(ctx context.Context, service string) ([]rib.Path, error) {
	var out []rib.Path
	err := n.do(ctx, func(time.Time) {
		for _, p := range n.sp.RIB().Candidates(service) {
			p.Route = p.Route.Clone()
			out = append(out, p)
		}
	})
	return out, err
}

// PeerStatus is a neighbour session with its transport.
type PeerStatus struct {
	fsm.PeerStatus
	PeerID peer.ID
	// Dialer: we open the stream.
	Dialer bool
	// Connected: a stream is up; Since when.
	Connected bool
	Since     time.Time
}

// Peers returns every configured neighbour, sorted by domain id.
func (n *Node) Peers(ctx context.Context) ([]PeerStatus, error) {
	var out []PeerStatus
	err := n.do(ctx, func(time.Time) {
		for _, st := range n.sp.Peers() {
			p := n.peers[st.ID]
			ps := PeerStatus{PeerStatus: st, PeerID: p.ID, Dialer: n.dials(p.ID)}
			if c := n.conns[st.ID]; c != nil {
				ps.Connected, ps.Since = true, c.since
			}
			out = append(out, ps)
		}
	})
	return out, err
}

// Stats counts what was refused.
type Stats struct {
	// RIB counts learnt routes dropped (loops, bad or unknown origins).
	RIB rib.Stats
	// GaterRefused counts connections and dials refused because the peer
	// is not configured.
	GaterRefused uint64
	// Sent and Received count the frames written to and decoded from
	// every neighbour's stream since the node started, by message type
	// (types never seen are absent).
	Sent, Received map[wire.Type]uint64
}

// Stats returns the node's counters.
func (n *Node) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := n.do(ctx, func(time.Time) { s.RIB = n.sp.RIB().Stats() })
	s.GaterRefused = n.gater.refused.Load()
	s.Sent, s.Received = countByType(&n.sent), countByType(&n.received)
	return s, err
}

func countByType(c *[wire.TypeEndOfRIB + 1]atomic.Uint64) map[wire.Type]uint64 {
	m := map[wire.Type]uint64{}
	for t := range c {
		if v := c[t].Load(); v > 0 {
			m[wire.Type(t)] = v
		}
	}
	return m
}

func cloneBest(b rib.Best) rib.Best {
	b.Route = b.Route.Clone()
	return b
}

func cloneChange(c rib.Change) rib.Change {
	if c.Old != nil {
		o := cloneBest(*c.Old)
		c.Old = &o
	}
	if c.New != nil {
		nb := cloneBest(*c.New)
		c.New = &nb
	}
	return c
}

// accept takes a stream a neighbour opened.
func (n *Node) accept(s network.Stream) {
	remote := s.Conn().RemotePeer()
	p := n.byID[remote]
	switch {
	case p == nil:
		// The gater should have stopped it.
		n.log.Warn("stream from unconfigured peer", "peer", remote)
		_ = s.Reset()
		return
	case n.dials(remote):
		// We are the side that opens the session's stream.
		n.log.Debug("refused stream from peer that should accept", "peer", p.Domain)
		_ = s.Reset()
		return
	}
	c := newConn(n, p.Domain, s, false)
	if !n.post(func(now time.Time) { n.attach(now, c) }) {
		_ = s.Reset()
	}
}

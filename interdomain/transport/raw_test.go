package transport

import (
	"bufio"
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/stitchnfv/stitch/interdomain/fsm"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

// rawPeer is a libp2p host that speaks the protocol by hand, to misbehave.
type rawPeer struct {
	h       host.Host
	inbound chan network.Stream
}

func newRawPeer(t testing.TB, id string, listen ma.Multiaddr) *rawPeer {
	t.Helper()
	key := testKey(id)
	priv, _, err := crypto.KeyPairFromStdKey(&key)
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.Identity(priv), libp2p.Security(noise.ID, noise.New),
		libp2p.Transport(tcp.NewTCPTransport), libp2p.ListenAddrs(listen), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	r := &rawPeer{h: h, inbound: make(chan network.Stream, 8)}
	h.SetStreamHandler(wire.ProtocolID, func(s network.Stream) { r.inbound <- s })
	return r
}

// session returns the session stream with n, opened by whichever side the
// rule says.
func (r *rawPeer) session(t testing.TB, n *Node) (network.Stream, *bufio.Reader) {
	t.Helper()
	var s network.Stream
	if r.h.ID() < n.ID() {
		ctx := ctxT(t)
		if err := r.h.Connect(ctx, peer.AddrInfo{ID: n.ID(), Addrs: n.Addrs()}); err != nil {
			t.Fatal(err)
		}
		var err error
		if s, err = r.h.NewStream(ctx, n.ID(), wire.ProtocolID); err != nil {
			t.Fatal(err)
		}
	} else {
		select {
		case s = <-r.inbound:
		case <-time.After(5 * time.Second):
			t.Fatal("node never opened the stream")
		}
	}
	t.Cleanup(func() { _ = s.Reset() })
	return s, bufio.NewReader(s)
}

func readMsg(t testing.TB, s network.Stream, br *bufio.Reader, within time.Duration) wire.Message {
	t.Helper()
	_ = s.SetReadDeadline(time.Now().Add(within))
	m, err := wire.ReadFrame(br, 0)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return m
}

func writeMsg(t testing.TB, s network.Stream, m wire.Message) {
	t.Helper()
	if err := wire.WriteFrame(s, m); err != nil {
		t.Fatalf("write %v: %v", m.Type(), err)
	}
}

// rawLab is node "a" with neighbour "z", played by a rawPeer.
func rawLab(t *testing.T) (*Node, *rawPeer) { return rawLabAs(t, "z") }

// rawLabAs is rawLab with the raw peer's key named id (its domain is z).
func rawLabAs(t *testing.T, id string) (*Node, *rawPeer) {
	l := newLab(t, "a", "z")
	l.link("a", "z")
	l.tune = func(d string, c *Config) {
		if d == "a" {
			c.Peers[0].ID = testPeerID(t, id)
			c.Keys = nil // z's key is its peer ID's
		}
	}
	a := l.start("a")
	return a, newRawPeer(t, id, l.addrs["z"])
}

func TestHoldTimerExpiryWithdraws(t *testing.T) {
	t.Parallel()
	a, z := rawLab(t)
	s, br := z.session(t, a)
	writeMsg(t, s, wire.Open{Version: wire.Version, DomainID: "z", HoldTime: 3 * time.Second})
	if m, ok := readMsg(t, s, br, 2*time.Second).(wire.Open); !ok || m.DomainID != "a" {
		t.Fatalf("want a's OPEN, got %#v", m)
	}
	if _, ok := readMsg(t, s, br, 2*time.Second).(wire.Keepalive); !ok {
		t.Fatal("want KEEPALIVE")
	}
	writeMsg(t, s, wire.Keepalive{})
	r := wire.Route{Service: "db", Address: netip.MustParseAddr("198.51.100.7"), Port: 5432, Proto: wire.TCP,
		Origin: "z", Path: []string{"z"}, Slots: 5, Ingress: netip.MustParseAddr("192.0.2.7")}
	if err := wire.Sign(&r, testKey("z")); err != nil {
		t.Fatal(err)
	}
	writeMsg(t, s, wire.Update{Announce: []wire.Route{r}})
	last := time.Now()
	waitFor(t, 2*time.Second, "a learns db", func() bool { _, ok := best(t, a, "db"); return ok })
	if st := peerState(t, a, "z"); st.State != fsm.Established {
		t.Fatalf("session with z: %+v", st)
	}

	// z goes silent but keeps the connection; a must give up after the
	// hold time and tell z why.
	notes := make(chan wire.Notification, 1)
	go func() {
		_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			m, err := wire.ReadFrame(br, 0)
			if err != nil {
				return
			}
			if n, ok := m.(wire.Notification); ok {
				notes <- n
				return
			}
		}
	}()
	waitFor(t, 6*time.Second, "a withdraws z's route", func() bool { _, ok := best(t, a, "db"); return !ok })
	if d := time.Since(last); d < 2500*time.Millisecond {
		t.Fatalf("withdrawn after %v, before the 3s hold time", d)
	}
	select {
	case n := <-notes:
		if n.Code != wire.CodeHoldTimerExpired {
			t.Fatalf("notification: %v", n)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no NOTIFICATION")
	}
}

func TestOpenDomainMustMatchPeerID(t *testing.T) {
	t.Parallel()
	a, z := rawLab(t)
	s, br := z.session(t, a)
	// z's key authenticated the stream, so it may only speak as z.
	writeMsg(t, s, wire.Open{Version: wire.Version, DomainID: "b", HoldTime: 3 * time.Second})
	for {
		m := readMsg(t, s, br, 2*time.Second)
		if n, ok := m.(wire.Notification); ok {
			if n.Code != wire.CodeOpen || n.Subcode != wire.OpenBadPeerID {
				t.Fatalf("notification: %v", n)
			}
			break
		}
		if _, ok := m.(wire.Open); !ok {
			t.Fatalf("unexpected %#v", m)
		}
	}
	// a closes its side after the NOTIFICATION.
	_ = s.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := wire.ReadFrame(br, 0); err == nil {
		t.Fatal("stream still open after the NOTIFICATION")
	}
	if st := peerState(t, a, "z"); st.State == fsm.Established {
		t.Fatalf("session with z: %+v", st)
	}
}

func TestStreamFromAcceptingSideIsRefused(t *testing.T) {
	t.Parallel()
	// A raw peer whose ID sorts above a's: a must dial it, and resets a
	// stream it opens itself.
	id := ""
	for _, c := range []string{"z", "y", "x", "w", "v", "u", "t", "s"} {
		if testPeerID(t, c) > testPeerID(t, "a") {
			id = c
			break
		}
	}
	if id == "" {
		t.Fatal("no key sorts above a's")
	}
	a, z := rawLabAs(t, id)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	// a dials z on its own at the same time: a handshake that loses that
	// race fails, and the connection a made serves as well.
	for {
		err := z.h.Connect(ctx, peer.AddrInfo{ID: a.ID(), Addrs: a.Addrs()})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s, err := z.h.NewStream(ctx, a.ID(), wire.ProtocolID)
	if err == nil {
		writeMsg(t, s, wire.Open{Version: wire.Version, DomainID: "z", HoldTime: 3 * time.Second})
		_ = s.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err = wire.ReadFrame(bufio.NewReader(s), 0)
	}
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stream opened by the accepting side was not reset: %v", err)
	}
}

// handshake brings up the session between r, speaking as domain, and n. The
// raw peer offers hold time 0, which disables the hold timer on both sides
// (as in BGP), so that a test that reads slowly never loses the session to
// a missed KEEPALIVE.
func (r *rawPeer) handshake(t testing.TB, n *Node, domain string) (network.Stream, *bufio.Reader) {
	t.Helper()
	s, br := r.session(t, n)
	writeMsg(t, s, wire.Open{Version: wire.Version, DomainID: domain, Capabilities: wire.Capabilities{BatchSignatures: true}})
	if m, ok := readMsg(t, s, br, 5*time.Second).(wire.Open); !ok || m.DomainID != n.Domain() {
		t.Fatalf("want %s's OPEN, got %#v", n.Domain(), m)
	}
	if m, ok := readMsg(t, s, br, 5*time.Second).(wire.Keepalive); !ok {
		t.Fatalf("want KEEPALIVE, got %#v", m)
	}
	writeMsg(t, s, wire.Keepalive{})
	_ = s.SetReadDeadline(time.Time{})
	waitEstablished(t, n, domain)
	return s, br
}

// rawSession is an established session of a raw peer; a reader goroutine
// hands over what the node sends and closes in when the stream ends.
type rawSession struct {
	s  network.Stream
	in chan wire.Message
}

func (r *rawPeer) establish(t testing.TB, n *Node, domain string) *rawSession {
	t.Helper()
	s, br := r.handshake(t, n, domain)
	rs := &rawSession{s: s, in: make(chan wire.Message, 64)}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		defer close(rs.in)
		for {
			m, err := wire.ReadFrame(br, 0)
			if err != nil {
				return
			}
			select {
			case rs.in <- m:
			case <-stop:
				return
			}
		}
	}()
	return rs
}

func (rs *rawSession) send(t testing.TB, m wire.Message) {
	t.Helper()
	writeMsg(t, rs.s, m)
}

// sendRaw writes bytes to the stream as they are, e.g. a broken frame.
func (rs *rawSession) sendRaw(t testing.TB, b []byte) {
	t.Helper()
	if _, err := rs.s.Write(b); err != nil {
		t.Fatal(err)
	}
}

// notification returns the first NOTIFICATION the node sends, skipping
// other messages.
func (rs *rawSession) notification(t testing.TB, within time.Duration) wire.Notification {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m, ok := <-rs.in:
			if !ok {
				t.Fatal("stream ended without a NOTIFICATION")
			}
			if n, ok := m.(wire.Notification); ok {
				return n
			}
		case <-deadline:
			t.Fatalf("no NOTIFICATION within %v", within)
		}
	}
}

// closed waits until the node closes the stream; it fails on a
// NOTIFICATION, which the caller did not expect.
func (rs *rawSession) closed(t testing.TB, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m, ok := <-rs.in:
			if !ok {
				return
			}
			if n, ok := m.(wire.Notification); ok {
				t.Fatalf("unexpected %v", n)
			}
		case <-deadline:
			t.Fatalf("stream still open after %v", within)
		}
	}
}

// quiet fails if the node sent a NOTIFICATION or closed the stream; it
// only looks at what has arrived so far.
func (rs *rawSession) quiet(t testing.TB) {
	t.Helper()
	for {
		select {
		case m, ok := <-rs.in:
			if !ok {
				t.Fatal("the node closed the stream")
			}
			if n, ok := m.(wire.Notification); ok {
				t.Fatalf("the node sent %v", n)
			}
		default:
			return
		}
	}
}

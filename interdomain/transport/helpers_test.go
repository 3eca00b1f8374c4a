package transport

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/stitchnfv/stitch/interdomain/fsm"
	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

func testKey(id string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("transport-test/" + id))
	return ed25519.NewKeyFromSeed(seed[:])
}

func testPeerID(t testing.TB, id string) peer.ID {
	t.Helper()
	p, err := PeerID(testKey(id).Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// freeAddr returns a loopback TCP multiaddr whose port was free just now.
func freeAddr(t testing.TB) ma.Multiaddr {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	return ma.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port))
}

// lab is a set of test domains with fixed keys and ports.
type lab struct {
	t     testing.TB
	addrs map[string]ma.Multiaddr
	keys  rib.StaticKeys
	links map[string][]string
	// tune adjusts a domain's config before New.
	tune func(domain string, c *Config)
}

func newLab(t testing.TB, domains ...string) *lab {
	l := &lab{t: t, addrs: map[string]ma.Multiaddr{}, keys: rib.StaticKeys{}, links: map[string][]string{}}
	for _, d := range domains {
		l.addrs[d] = freeAddr(t)
		l.keys[d] = testKey(d).Public().(ed25519.PublicKey)
	}
	return l
}

func (l *lab) link(a, b string) {
	l.links[a] = append(l.links[a], b)
	l.links[b] = append(l.links[b], a)
}

func (l *lab) config(domain string) Config {
	c := Config{
		Domain:      domain,
		Key:         testKey(domain),
		Listen:      []ma.Multiaddr{l.addrs[domain]},
		Keys:        l.keys,
		Protocol:    fsm.Config{HoldTime: 3 * time.Second, MRAI: -1},
		MinBackoff:  20 * time.Millisecond,
		MaxBackoff:  200 * time.Millisecond,
		DialTimeout: 2 * time.Second,
		Logger:      slog.New(slog.NewTextHandler(l.t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	for _, p := range l.links[domain] {
		c.Peers = append(c.Peers, Peer{Domain: p, ID: testPeerID(l.t, p), Addrs: []ma.Multiaddr{l.addrs[p]}})
	}
	if l.tune != nil {
		l.tune(domain, &c)
	}
	return c
}

// start runs a domain's node, closed at the end of the test.
func (l *lab) start(domain string) *Node {
	l.t.Helper()
	n, err := New(context.Background(), l.config(domain))
	if err != nil {
		l.t.Fatalf("start %s: %v", domain, err)
	}
	l.t.Cleanup(func() { _ = n.Close() })
	return n
}

// startAll starts every domain of the lab, each listening on a port the
// kernel picks at listen time (freeAddr's probed port could be taken before
// the node binds it). The lower peer ID of a link dials it (see the package
// documentation), so the nodes start in descending peer-ID order: a node
// only ever dials nodes already up, whose bound addresses are known by then.
func (l *lab) startAll() map[string]*Node {
	l.t.Helper()
	ids := map[string]peer.ID{}
	for d := range l.keys {
		ids[d] = testPeerID(l.t, d)
	}
	nodes := make(map[string]*Node, len(ids))
	for _, d := range slices.SortedFunc(maps.Keys(ids), func(a, b string) int { return cmp.Compare(ids[b], ids[a]) }) {
		l.addrs[d] = ma.StringCast("/ip4/127.0.0.1/tcp/0")
		n := l.start(d)
		if addrs := n.Addrs(); len(addrs) != 1 {
			l.t.Fatalf("%s listens on %v, want one address", d, addrs)
		}
		l.addrs[d] = n.Addrs()[0]
		nodes[d] = n
	}
	return nodes
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func best(t testing.TB, n *Node, service string) (rib.Best, bool) {
	t.Helper()
	routes, err := n.Routes(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range routes {
		if b.Route.Service == service {
			return b, true
		}
	}
	return rib.Best{}, false
}

func peerState(t testing.TB, n *Node, domain string) PeerStatus {
	t.Helper()
	ps, err := n.Peers(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.ID == domain {
			return p
		}
	}
	t.Fatalf("%s: no peer %s", n.Domain(), domain)
	return PeerStatus{}
}

func waitEstablished(t testing.TB, n *Node, domain string) {
	t.Helper()
	waitFor(t, 5*time.Second, n.Domain()+" established with "+domain, func() bool {
		return peerState(t, n, domain).State == fsm.Established
	})
}

// streams counts the svcroute streams n has to p.
func streams(n *Node, p peer.ID) int {
	count := 0
	for _, c := range n.Host().Network().ConnsToPeer(p) {
		for _, s := range c.GetStreams() {
			if s.Protocol() == protocol.ID(wire.ProtocolID) {
				count++
			}
		}
	}
	return count
}

func service(name string, slots uint32) fsm.LocalService {
	return fsm.LocalService{
		Name: name, Address: netip.MustParseAddr("198.51.100.10"), Port: 443, Proto: wire.TCP,
		Ingress: netip.MustParseAddr("192.0.2.1"), Slots: slots,
	}
}

// change is a best-path change as a subscriber saw it.
type change struct {
	at   time.Time // when the subscriber received it
	has  bool      // false: the service has no route any more
	peer string    // next hop; "" for a local route
	path []string
}

// recorder keeps every change of a node's Loc-RIB, from a subscription.
type recorder struct {
	mu      sync.Mutex
	changes []change
}

func record(t testing.TB, n *Node) *recorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := n.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	go func() {
		for c := range ch {
			x := change{at: time.Now(), has: c.New != nil}
			if c.New != nil {
				x.peer, x.path = c.New.Peer, c.New.Route.Path
			}
			r.mu.Lock()
			r.changes = append(r.changes, x)
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *recorder) snapshot() []change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.changes)
}

// wait returns the changes seen once cond holds for them.
func (r *recorder) wait(t testing.TB, cond func([]change) bool) []change {
	t.Helper()
	var got []change
	waitFor(t, 5*time.Second, "subscriber sees the changes", func() bool {
		got = r.snapshot()
		return cond(got)
	})
	return got
}

package transport

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/stitchnfv/stitch/interdomain/fsm"
	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

// TestTriangleNoLoop: in a triangle every domain hears an announcement
// twice, directly and through the third domain, which is where a loop would
// form. The direct path must win, no path may ever lead through its holder,
// and a withdrawal must leave no route at all, not even one of the
// alternatives through the other neighbour.
func TestTriangleNoLoop(t *testing.T) {
	t.Parallel()
	l := newLab(t, "a", "b", "c")
	l.link("a", "b")
	l.link("b", "c")
	l.link("a", "c")
	nodes := l.startAll()
	a, b, c := nodes["a"], nodes["b"], nodes["c"]
	for _, n := range nodes {
		for _, p := range n.cfg.Peers {
			waitEstablished(t, n, p.Domain)
		}
	}

	// Every best path the subscribers see, from the announcement on.
	seen := map[string]*recorder{}
	for d, n := range nodes {
		seen[d] = record(t, n)
	}

	if err := a.Announce(ctxT(t), service("video", 100)); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*Node{b, c} {
		waitFor(t, 3*time.Second, n.Domain()+" learns video from a directly", func() bool {
			r, ok := best(t, n, "video")
			return ok && r.Peer == "a" && slices.Equal(r.Route.Path, []string{"a"})
		})
	}
	// b and c also hold the path through each other (what makes the
	// triangle a test of loop prevention); a holds only its own: b and c
	// do not send a's route back to it.
	want := map[string]int{"a": 1, "b": 2, "c": 2}
	for d, n := range nodes {
		waitFor(t, 3*time.Second, fmt.Sprintf("%s holds %d paths", d, want[d]), func() bool {
			return len(candidates(t, n, "video")) == want[d]
		})
	}
	noPathThroughHolder(t, nodes)

	if err := a.Withdraw(ctxT(t), "video"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "no route left anywhere", func() bool {
		for _, n := range nodes {
			routes, err := n.Routes(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(routes) > 0 || len(candidates(t, n, "video")) > 0 {
				return false
			}
		}
		return true
	})
	for d, r := range seen {
		changes := r.wait(t, func(ch []change) bool { return len(ch) > 0 && !ch[len(ch)-1].has })
		for _, ch := range changes {
			if ch.has && slices.Contains(ch.path, d) {
				t.Errorf("%s used a path through itself: %v", d, ch.path)
			}
		}
	}
	for _, n := range nodes {
		if st, err := n.Stats(ctxT(t)); err != nil || st.RIB != (rib.Stats{}) {
			t.Errorf("%s refused routes (%v): %+v", n.Domain(), err, st.RIB)
		}
	}
	// a told b and c once each, and heard nothing back: neither sends a's
	// route to a (split horizon, and paths through a are not exported to
	// it), so there was nothing to withdraw from a either, and a's
	// retraction is flooded to every peer but its origin.
	var st Stats
	waitFor(t, 3*time.Second, "a's two announcements and two withdrawals written", func() bool {
		var err error
		st, err = a.Stats(ctxT(t))
		return err == nil && st.Sent[wire.TypeUpdate] == 4
	})
	if n := st.Received[wire.TypeUpdate]; n != 0 {
		t.Errorf("a received %d UPDATEs", n)
	}
}

// noPathThroughHolder checks loop prevention: no domain holds a path, best
// or not, that leads through itself.
func noPathThroughHolder(t *testing.T, nodes map[string]*Node) {
	t.Helper()
	for d, n := range nodes {
		routes, err := n.Routes(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range routes {
			for _, p := range candidates(t, n, r.Route.Service) {
				if slices.Contains(p.Route.Path, d) {
					t.Errorf("%s holds a path through itself: %+v", d, p)
				}
			}
		}
	}
}

func candidates(t testing.TB, n *Node, service string) []rib.Path {
	t.Helper()
	ps, err := n.Candidates(ctxT(t), service)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// guard is node a between two neighbours: b, a node that originates
// "video", and z, a raw peer that misbehaves, its session established.
type guard struct {
	a, b *Node
	z    *rawSession
}

// newGuard sets up a guard; zPeer adjusts a's configuration of z.
func newGuard(t *testing.T, zPeer func(*Peer)) guard {
	t.Helper()
	z := newRawPeer(t, "z", ma.StringCast("/ip4/127.0.0.1/tcp/0"))
	l := newLab(t, "a", "b")
	l.link("a", "b")
	// b verifies the routes z originates that a passes on.
	l.keys["z"] = testKey("z").Public().(ed25519.PublicKey)
	l.tune = func(d string, c *Config) {
		switch d {
		case "a":
			p := Peer{Domain: "z", ID: z.h.ID(), Addrs: z.h.Addrs()}
			if zPeer != nil {
				zPeer(&p)
			}
			c.Peers = append(c.Peers, p)
		case "b":
			c.Local = []fsm.LocalService{service("video", 40)}
		}
	}
	nodes := l.startAll()
	g := guard{a: nodes["a"], b: nodes["b"]}
	waitFor(t, 5*time.Second, "a learns b's video", func() bool {
		r, ok := best(t, g.a, "video")
		return ok && r.Peer == "b"
	})
	g.z = z.establish(t, g.a, "z")
	return g
}

// intact checks that whatever z did left b's session and route at a alone,
// and that a still serves b: a new service b announces reaches a.
func (g guard) intact(t *testing.T, probe string) {
	t.Helper()
	if st := peerState(t, g.a, "b"); st.State != fsm.Established {
		t.Fatalf("a's session with b: %+v", st)
	}
	r, ok := best(t, g.a, "video")
	if !ok || r.Peer != "b" || !slices.Equal(r.Route.Path, []string{"b"}) || r.Route.Address != service("video", 0).Address {
		t.Fatalf("a's video: %+v (%v)", r, ok)
	}
	if err := g.b.Announce(ctxT(t), service(probe, 5)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "a learns b's "+probe, func() bool {
		r, ok := best(t, g.a, probe)
		return ok && r.Peer == "b"
	})
}

// fromZ returns the services a holds from z, with their slots.
func (g guard) fromZ(t testing.TB) map[string]uint32 {
	t.Helper()
	routes, err := g.a.Routes(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint32{}
	for _, r := range routes {
		if r.Peer == "z" {
			out[r.Route.Service] = r.Route.Slots
		}
	}
	return out
}

// waitFromZ waits until a holds exactly the services want from z.
func (g guard) waitFromZ(t testing.TB, want ...string) {
	t.Helper()
	waitFor(t, 3*time.Second, fmt.Sprintf("a holds %v from z", want), func() bool {
		return slices.Equal(slices.Sorted(maps.Keys(g.fromZ(t))), want)
	})
}

// originRoute is the route origin signs for svc, as its domain announces it.
func originRoute(t testing.TB, svc fsm.LocalService, origin string) wire.Route {
	t.Helper()
	r := wire.Route{Service: svc.Name, Address: svc.Address, Port: svc.Port, Proto: svc.Proto,
		Origin: origin, Path: []string{origin}, Slots: svc.Slots, Ingress: svc.Ingress}
	if err := wire.Sign(&r, testKey(origin)); err != nil {
		t.Fatal(err)
	}
	return r
}

// zRoute is a route z originates.
func zRoute(t testing.TB, name string) wire.Route {
	return originRoute(t, service(name, 7), "z")
}

func TestForgedOriginDropped(t *testing.T) {
	t.Parallel()
	hijacked := netip.MustParseAddr("203.0.113.66")
	tests := []struct {
		name  string
		forge func(t *testing.T) wire.Route
		want  rib.Stats // what the refusal adds to a's counters
	}{
		{"b's signature on another address", func(t *testing.T) wire.Route {
			// b's genuine route, pointed elsewhere: the signature
			// covers the address, so it no longer verifies.
			r := originRoute(t, service("video", 40), "b")
			r.Address, r.Ingress = hijacked, hijacked
			r.Path = []string{"z", "b"}
			return r
		}, rib.Stats{BadSignatures: 1}},
		{"signed by the sender instead of the origin", func(t *testing.T) wire.Route {
			r := originRoute(t, service("payments", 9), "b")
			r.Path = []string{"z", "b"}
			if err := wire.Sign(&r, testKey("z")); err != nil {
				t.Fatal(err)
			}
			return r
		}, rib.Stats{BadSignatures: 1}},
		{"no signature", func(t *testing.T) wire.Route {
			r := originRoute(t, service("payments", 9), "b")
			r.Path = []string{"z", "b"}
			r.Signature = nil
			return r
		}, rib.Stats{BadSignatures: 1}},
		{"b's genuine route replayed as if z were b", func(t *testing.T) wire.Route {
			// Signed by b, path [b]: the signature does not cover the
			// path, so only the first-hop check stops z posing as b.
			return originRoute(t, service("video", 40), "b")
		}, rib.Stats{WrongFirstHop: 1}},
		{"origin without a known key", func(t *testing.T) wire.Route {
			r := originRoute(t, service("payments", 9), "q")
			r.Path = []string{"z", "q"}
			return r
		}, rib.Stats{UnknownOrigins: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newGuard(t, nil)
			g.z.send(t, wire.Update{Announce: []wire.Route{zRoute(t, "db")}})
			g.waitFromZ(t, "db")
			before, err := g.a.Stats(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}

			forged := tt.forge(t)
			g.z.send(t, wire.Update{Announce: []wire.Route{forged}})
			// z's stream is read in order: once a holds db2, it has
			// dealt with the forged route, and the session survived it.
			g.z.send(t, wire.Update{Announce: []wire.Route{zRoute(t, "db2")}})
			g.waitFromZ(t, "db", "db2")

			after, err := g.a.Stats(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			if d := statsDelta(before.RIB, after.RIB); d != tt.want {
				t.Errorf("refusal counters moved by %+v, want %+v", d, tt.want)
			}
			for _, p := range candidates(t, g.a, forged.Service) {
				if p.Peer == "z" {
					t.Errorf("a stored the forged route: %+v", p)
				}
			}
			if st := peerState(t, g.a, "z"); st.State != fsm.Established || st.Received != 2 {
				t.Errorf("a's session with z: %+v", st)
			}
			g.z.quiet(t)
			g.intact(t, "probe")
			// a forwards to b in order too: once b has db2, the forged
			// route would have reached it before.
			waitFor(t, 3*time.Second, "b learns db2 through a", func() bool { _, ok := best(t, g.b, "db2"); return ok })
			for _, p := range candidates(t, g.b, forged.Service) {
				if p.Peer == "a" {
					t.Errorf("a passed the forged route on to b: %+v", p)
				}
			}
		})
	}
}

// TestForgedOriginsInLargeUpdate: an UPDATE large enough to be verified in
// parallel chunks by a's stream reader (see precheck), with forged routes
// in several chunks and a route a refuses as a loop before its signature:
// exactly those are refused and counted, as one by one on the loop, and
// every genuine route is stored.
func TestForgedOriginsInLargeUpdate(t *testing.T) {
	t.Parallel()
	g := newGuard(t, nil)
	n := 3*verifyChunk + 5
	bad := map[int]bool{0: true, verifyChunk + 7: true, n - 1: true}
	loop := 2*verifyChunk + 1
	var u wire.Update
	var want []string
	for i := range n {
		name := fmt.Sprintf("bulk-%04d", i)
		r := zRoute(t, name)
		switch {
		case bad[i]: // z signs a route claiming b as its origin
			r = originRoute(t, service(name, 9), "b")
			r.Path = []string{"z", "b"}
			if err := wire.Sign(&r, testKey("z")); err != nil {
				t.Fatal(err)
			}
		case i == loop: // through a already
			r.Path = []string{"z", "a", "z"}
		default:
			want = append(want, name)
		}
		u.Announce = append(u.Announce, r)
	}
	before, err := g.a.Stats(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	g.z.send(t, u)
	g.waitFromZ(t, want...)
	after, err := g.a.Stats(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if d, w := statsDelta(before.RIB, after.RIB), (rib.Stats{BadSignatures: 3, Loops: 1}); d != w {
		t.Errorf("refusal counters moved by %+v, want %+v", d, w)
	}
	if st := peerState(t, g.a, "z"); st.State != fsm.Established || st.Received != len(want) {
		t.Errorf("a's session with z: %+v", st)
	}
	g.intact(t, "probe")
}

func statsDelta(before, after rib.Stats) rib.Stats {
	return rib.Stats{
		Loops:          after.Loops - before.Loops,
		BadSignatures:  after.BadSignatures - before.BadSignatures,
		UnknownOrigins: after.UnknownOrigins - before.UnknownOrigins,
		WrongFirstHop:  after.WrongFirstHop - before.WrongFirstHop,
	}
}

// frame is body behind its length prefix.
func frame(body []byte) []byte {
	return append(binary.AppendUvarint(nil, uint64(len(body))), body...)
}

// envelope builds an envelope by hand, as a broken peer might.
func envelope(typ wire.Type, body []byte) []byte {
	b := protowire.AppendTag(nil, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(typ))
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendBytes(b, body)
}

func TestMalformedMessageClosesOnlyThatSession(t *testing.T) {
	t.Parallel()
	// An UPDATE announcing a route whose address has 5 bytes.
	badAddr := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType),
		protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), []byte{1, 2, 3, 4, 5}))
	tests := []struct {
		name string
		raw  []byte
		// The fsm answers CodeMessage for what cannot be a message of
		// ours at all, CodeUpdate for the rest once established.
		want wire.NotifyCode
	}{
		{"unknown message type", frame(envelope(42, nil)), wire.CodeMessage},
		{"frame over the size limit", binary.AppendUvarint(nil, wire.MaxMessageSize+1), wire.CodeMessage},
		{"UPDATE with an empty withdrawal", frame(envelope(wire.TypeUpdate,
			protowire.AppendString(protowire.AppendTag(nil, 2, protowire.BytesType), ""))), wire.CodeUpdate},
		{"UPDATE with a 5-byte address", frame(envelope(wire.TypeUpdate, badAddr)), wire.CodeUpdate},
		{"truncated envelope", frame([]byte{0x80}), wire.CodeUpdate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newGuard(t, nil)
			g.z.send(t, wire.Update{Announce: []wire.Route{zRoute(t, "db")}})
			g.waitFromZ(t, "db")

			g.z.sendRaw(t, tt.raw)
			if n := g.z.notification(t, 3*time.Second); n.Code != tt.want || n.Text == "" {
				t.Errorf("notification %v, want code %v with a reason", n, tt.want)
			}
			g.z.closed(t, 3*time.Second)
			// A broken stream is an error, not a restart: z's routes go.
			g.waitFromZ(t)
			if st := peerState(t, g.a, "z"); st.State == fsm.Established {
				t.Errorf("a's session with z: %+v", st)
			}
			g.intact(t, "probe")
		})
	}
}

func TestRouteLimit(t *testing.T) {
	t.Parallel()
	const limit = 3
	r := func(t *testing.T, names ...string) []wire.Route {
		var out []wire.Route
		for _, n := range names {
			out = append(out, zRoute(t, n))
		}
		return out
	}
	tests := []struct {
		name    string
		updates func(t *testing.T) []wire.Update
		// over: a must close the session; else a must hold keep from z
		// (service: slots).
		over bool
		keep map[string]uint32
	}{
		{"exactly the limit", func(t *testing.T) []wire.Update {
			return []wire.Update{{Announce: r(t, "s1", "s2", "s3")}}
		}, false, map[string]uint32{"s1": 7, "s2": 7, "s3": 7}},
		{"one over in one UPDATE", func(t *testing.T) []wire.Update {
			return []wire.Update{{Announce: r(t, "s1", "s2", "s3", "s4")}}
		}, true, nil},
		{"one over in a later UPDATE", func(t *testing.T) []wire.Update {
			return []wire.Update{{Announce: r(t, "s1", "s2", "s3")}, {Announce: r(t, "s4")}}
		}, true, nil},
		{"a withdrawal in the same UPDATE makes room", func(t *testing.T) []wire.Update {
			return []wire.Update{{Announce: r(t, "s1", "s2", "s3")}, {Withdraw: []string{"s1"}, Announce: r(t, "s4")}}
		}, false, map[string]uint32{"s2": 7, "s3": 7, "s4": 7}},
		{"an update of a held route counts once", func(t *testing.T) []wire.Update {
			again := zRoute(t, "s3")
			again.Slots++
			return []wire.Update{{Announce: r(t, "s1", "s2", "s3")}, {Announce: []wire.Route{again}}}
		}, false, map[string]uint32{"s1": 7, "s2": 7, "s3": 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newGuard(t, func(p *Peer) { p.MaxRoutes = limit })
			for _, u := range tt.updates(t) {
				g.z.send(t, u)
			}
			if !tt.over {
				waitFor(t, 3*time.Second, fmt.Sprintf("a holds %v from z", tt.keep), func() bool {
					return maps.Equal(g.fromZ(t), tt.keep)
				})
				g.z.quiet(t)
				if st := peerState(t, g.a, "z"); st.State != fsm.Established {
					t.Fatalf("a's session with z: %+v", st)
				}
				g.intact(t, "probe")
				return
			}
			n := g.z.notification(t, 3*time.Second)
			if n.Code != wire.CodeCease || n.Subcode != wire.CeaseMaxRoutes || !strings.Contains(n.Text, fmt.Sprintf("maximum %d", limit)) {
				t.Errorf("notification %v, want cease (max routes) saying the maximum", n)
			}
			g.z.closed(t, 3*time.Second)
			g.waitFromZ(t)
			if st := peerState(t, g.a, "z"); st.State == fsm.Established {
				t.Errorf("a's session with z: %+v", st)
			}
			g.intact(t, "probe")
		})
	}
}

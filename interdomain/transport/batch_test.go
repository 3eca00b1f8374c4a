package transport

import (
	"crypto/ed25519"
	"fmt"
	"slices"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

// TestBatchSignedRoutes: z announces routes it signed as one batch, with
// one of them given another route's proof, and one route signed alone. a
// verifies the batch once, refuses and counts the forged one, and passes
// the rest on with their proofs to c, which verifies them again; b, which
// does not announce the batch-signatures capability, gets only the route
// signed alone, never one it would take for forged.
func TestBatchSignedRoutes(t *testing.T) {
	t.Parallel()
	z := newRawPeer(t, "z", ma.StringCast("/ip4/127.0.0.1/tcp/0"))
	l := newLab(t, "a", "b", "c")
	l.link("a", "b")
	l.link("a", "c")
	l.keys["z"] = testKey("z").Public().(ed25519.PublicKey)
	l.tune = func(d string, c *Config) {
		c.Protocol.MRAI = -1
		switch d {
		case "a":
			c.Peers = append(c.Peers, Peer{Domain: "z", ID: z.h.ID(), Addrs: z.h.Addrs()})
		case "b":
			c.Protocol.DisableBatchSignatures = true
		}
	}
	nodes := l.startAll()
	a, b, c := nodes["a"], nodes["b"], nodes["c"]
	waitEstablished(t, a, "b")
	waitEstablished(t, a, "c")
	zs := z.establish(t, a, "z")

	batch := make([]wire.Route, 5)
	for i := range batch {
		batch[i] = zRoute(t, fmt.Sprintf("batch-%d", i))
	}
	if err := wire.SignBatch(batch, testKey("z")); err != nil {
		t.Fatal(err)
	}
	batch[4].BatchProof = batch[3].BatchProof // forged: not its proof
	alone := zRoute(t, "alone")
	before, err := a.Stats(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	zs.send(t, wire.Update{Announce: append(slices.Clone(batch), alone)})

	want := []string{"alone", "batch-0", "batch-1", "batch-2", "batch-3"}
	waitFor(t, 5*time.Second, "c learns z's routes through a", func() bool {
		return slices.Equal(servicesFrom(t, c, "a"), want)
	})
	for _, svc := range want {
		r, ok := best(t, c, svc)
		if !ok || !slices.Equal(r.Route.Path, []string{"a", "z"}) {
			t.Fatalf("c's %s: %+v", svc, r)
		}
		if svc != "alone" && (r.Route.BatchDepth() != 3 || r.Route.BatchIndex != batch[svc[len(svc)-1]-'0'].BatchIndex) {
			t.Fatalf("c's %s lost its batch proof: depth %d index %d", svc, r.Route.BatchDepth(), r.Route.BatchIndex)
		}
	}
	waitFor(t, 5*time.Second, "b learns the route signed alone", func() bool {
		return slices.Equal(servicesFrom(t, b, "a"), []string{"alone"})
	})
	// b's session saw the same flush as c's: nothing else is on its way.
	time.Sleep(200 * time.Millisecond)
	if got := servicesFrom(t, b, "a"); !slices.Equal(got, []string{"alone"}) {
		t.Fatalf("b, without the capability, holds %v", got)
	}
	after, err := a.Stats(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if d := statsDelta(before.RIB, after.RIB); d != (rib.Stats{BadSignatures: 1}) {
		t.Fatalf("a's refusals moved by %+v, want one bad signature", d)
	}
	for name, n := range map[string]*Node{"b": b, "c": c} {
		st, err := n.Stats(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if st.RIB != (rib.Stats{}) {
			t.Fatalf("%s refused routes a passed on: %+v", name, st.RIB)
		}
	}
}

// servicesFrom returns the services n holds from peer, sorted.
func servicesFrom(t testing.TB, n *Node, peer string) []string {
	t.Helper()
	routes, err := n.Routes(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range routes {
		if r.Peer == peer {
			out = append(out, r.Route.Service)
		}
	}
	slices.Sort(out)
	return out
}

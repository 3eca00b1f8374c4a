package transport

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/stitchnfv/stitch/interdomain/fsm"
	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

func TestTwoDomainsAnnounceWithdraw(t *testing.T) {
	t.Parallel()
	l := newLab(t, "a", "b")
	l.link("a", "b")
	a, b := l.start("a"), l.start("b")
	waitEstablished(t, a, "b")
	waitEstablished(t, b, "a")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes, err := b.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}

	if err := a.Announce(ctxT(t), service("video", 250)); err != nil {
		t.Fatal(err)
	}
	var got rib.Best
	waitFor(t, 3*time.Second, "b learns video", func() bool {
		var ok bool
		got, ok = best(t, b, "video")
		return ok
	})
	if got.Peer != "a" || got.Route.Origin != "a" || !slices.Equal(got.Route.Path, []string{"a"}) || got.Route.Slots != 250 {
		t.Fatalf("b's route: %+v", got)
	}
	if err := wire.Verify(got.Route, l.keys["a"]); err != nil {
		t.Fatalf("origin signature: %v", err)
	}
	select {
	case c := <-changes:
		if c.Service != "video" || c.Old != nil || c.New == nil || c.New.Peer != "a" {
			t.Fatalf("first change: %+v", c)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no change on the subscription")
	}

	// Exactly one svcroute stream per neighbour, on both sides.
	if n := streams(a, b.ID()); n != 1 {
		t.Errorf("a has %d streams to b", n)
	}
	if n := streams(b, a.ID()); n != 1 {
		t.Errorf("b has %d streams to a", n)
	}
	if !a.Host().ConnManager().IsProtected(b.ID(), protectTag) || !b.Host().ConnManager().IsProtected(a.ID(), protectTag) {
		t.Error("neighbour connections are not protected from trimming")
	}
	pa, pb := peerState(t, a, "b"), peerState(t, b, "a")
	if pa.Dialer == pb.Dialer || !pa.Connected || !pb.Connected {
		t.Errorf("one side must dial: a %+v, b %+v", pa, pb)
	}

	if err := a.Withdraw(ctxT(t), "video"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "b loses video", func() bool {
		_, ok := best(t, b, "video")
		return !ok
	})
	select {
	case c := <-changes:
		if c.Service != "video" || c.New != nil {
			t.Fatalf("withdrawal change: %+v", c)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no withdrawal on the subscription")
	}
	cancel()
	for range changes { // closed once ctx is done
	}
}

func TestLineOfThree(t *testing.T) {
	t.Parallel()
	l := newLab(t, "a", "b", "c")
	l.link("a", "b")
	l.link("b", "c")
	a, b, c := l.start("a"), l.start("b"), l.start("c")
	waitEstablished(t, b, "a")
	waitEstablished(t, b, "c")

	if err := a.Announce(ctxT(t), service("video", 100)); err != nil {
		t.Fatal(err)
	}
	var got rib.Best
	waitFor(t, 3*time.Second, "c learns video", func() bool {
		var ok bool
		got, ok = best(t, c, "video")
		return ok
	})
	if got.Peer != "b" || got.Route.Origin != "a" || !slices.Equal(got.Route.Path, []string{"b", "a"}) {
		t.Fatalf("c's route: %+v", got)
	}
	if err := wire.Verify(got.Route, l.keys["a"]); err != nil {
		t.Fatalf("origin signature at c: %v", err)
	}
	for _, n := range []*Node{a, b, c} {
		for _, p := range n.cfg.Peers {
			if s := streams(n, p.ID); s != 1 {
				t.Errorf("%s has %d streams to %s", n.Domain(), s, p.Domain)
			}
		}
	}

	if err := a.Withdraw(ctxT(t), "video"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "withdrawal everywhere", func() bool {
		_, okB := best(t, b, "video")
		_, okC := best(t, c, "video")
		return !okB && !okC
	})
}

func TestUnconfiguredPeerRefused(t *testing.T) {
	t.Parallel()
	l := newLab(t, "a", "b", "x")
	l.link("a", "b")
	// x is configured with a as its neighbour, but a does not know x.
	l.tune = func(d string, c *Config) {
		if d == "x" {
			c.Peers = append(c.Peers, Peer{Domain: "a", ID: testPeerID(t, "a"), Addrs: []ma.Multiaddr{l.addrs["a"]}})
		}
	}
	a, b, x := l.start("a"), l.start("b"), l.start("x")
	waitEstablished(t, a, "b")
	if err := a.Announce(ctxT(t), service("video", 10)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "b learns video", func() bool { _, ok := best(t, b, "video"); return ok })

	// x dials a directly and tries to open a session stream.
	ctx := ctxT(t)
	_ = x.Host().Connect(ctx, peer.AddrInfo{ID: a.ID(), Addrs: a.Addrs()})
	if s, err := x.Host().NewStream(ctx, a.ID(), wire.ProtocolID); err == nil {
		// Stream creation may be lazy; it must not carry anything.
		_ = wire.WriteFrame(s, wire.Open{Version: wire.Version, DomainID: "x", HoldTime: 3 * time.Second})
		buf := make([]byte, 1)
		_ = s.SetReadDeadline(time.Now().Add(time.Second))
		if n, _ := s.Read(buf); n > 0 {
			t.Fatal("a answered an unconfigured peer")
		}
		_ = s.Reset()
	}
	waitFor(t, 3*time.Second, "a refuses x", func() bool {
		st, err := a.Stats(ctxT(t))
		return err == nil && st.GaterRefused > 0
	})
	time.Sleep(200 * time.Millisecond)
	if conns := a.Host().Network().ConnsToPeer(x.ID()); len(conns) != 0 {
		t.Errorf("a keeps %d connections to x", len(conns))
	}
	if routes, _ := x.Routes(ctxT(t)); len(routes) != 0 {
		t.Errorf("x got routes: %+v", routes)
	}
	if st := peerState(t, x, "a"); st.State == fsm.Established {
		t.Errorf("x established a session with a")
	}
	ps, _ := a.Peers(ctxT(t))
	if len(ps) != 1 || ps[0].ID != "b" || ps[0].State != fsm.Established {
		t.Errorf("a's peers: %+v", ps)
	}
	if _, ok := best(t, b, "video"); !ok {
		t.Error("b lost video")
	}
}

func TestNeighbourKilledAndRestarted(t *testing.T) {
	t.Parallel()
	l := newLab(t, "a", "b")
	l.link("a", "b")
	l.tune = func(d string, c *Config) {
		if d == "b" {
			c.Local = []fsm.LocalService{service("video", 50)}
		}
	}
	a, b := l.start("a"), l.start("b")
	waitFor(t, 5*time.Second, "a learns video", func() bool { _, ok := best(t, a, "video"); return ok })

	// Kill b: its host goes away without a NOTIFICATION.
	killed := time.Now()
	_ = b.Host().Close()
	_ = b.Close()
	waitFor(t, 3*time.Second, "a withdraws b's routes within the hold time", func() bool {
		_, ok := best(t, a, "video")
		return !ok
	})
	t.Logf("withdrawn %v after the kill", time.Since(killed))
	if st := peerState(t, a, "b"); st.State == fsm.Established || st.Received != 0 {
		t.Fatalf("a's session with b after the kill: %+v", st)
	}

	// Restart b on the same address and key: a reconnects, routes return.
	b2 := l.start("b")
	waitEstablished(t, a, "b")
	waitFor(t, 5*time.Second, "video back at a", func() bool { _, ok := best(t, a, "video"); return ok })
	waitFor(t, 2*time.Second, "one stream each way", func() bool {
		return streams(a, b2.ID()) == 1 && streams(b2, a.ID()) == 1
	})
}

func TestGracefulRestartKeepsRoutes(t *testing.T) {
	t.Parallel()
	l := newLab(t, "a", "b")
	l.link("a", "b")
	l.tune = func(d string, c *Config) {
		c.Protocol.RestartTime = 3 * time.Second
		if d == "b" {
			c.Local = []fsm.LocalService{service("video", 50)}
		}
	}
	a, b := l.start("a"), l.start("b")
	waitFor(t, 5*time.Second, "a learns video", func() bool { _, ok := best(t, a, "video"); return ok })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes, err := a.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	<-changes // the current route

	_ = b.Host().Close()
	_ = b.Close()
	waitFor(t, 3*time.Second, "a marks b restarting", func() bool { return peerState(t, a, "b").Stale })
	time.Sleep(300 * time.Millisecond)
	if _, ok := best(t, a, "video"); !ok {
		t.Fatal("a dropped video during b's restart")
	}

	b2 := l.start("b")
	waitEstablished(t, a, "b")
	waitFor(t, 3*time.Second, "b's routes refreshed", func() bool {
		st := peerState(t, a, "b")
		return !st.Stale && st.Received == 1
	})
	got, ok := best(t, a, "video")
	if !ok || got.Stale || got.Peer != "b" {
		t.Fatalf("a's route after the restart: %+v (%v)", got, ok)
	}
	cancel()
	for c := range changes {
		if c.New == nil {
			t.Errorf("video was withdrawn during the graceful restart: %+v", c)
		}
	}
	if n := streams(a, b2.ID()); n != 1 {
		t.Errorf("a has %d streams to b", n)
	}
}

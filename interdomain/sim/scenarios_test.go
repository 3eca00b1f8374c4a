package sim

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/interdomain/damping"
	"github.com/stitchnfv/stitch/interdomain/fsm"
	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

// TestHijackDropped: a domain announces another domain's service with a
// route signed by its own key. Its neighbour drops and counts it; nobody
// ends up with the forged route, and the genuine one is untouched.
func TestHijackDropped(t *testing.T) {
	top := Line(4, time.Millisecond) // d000 … d003
	top.Nodes = append(top.Nodes, "evil")
	top.Links = append(top.Links, Link{"evil", NodeID(2), time.Millisecond})
	n := build(t, top, nil)
	mustNot(t, n.Announce(NodeID(0), service("video", 10)))
	n.Run(time.Minute)

	forged := wire.Route{
		Service: "video", Address: netip.MustParseAddr("203.0.113.66"), Port: 443, Proto: wire.TCP,
		Origin: NodeID(0), Path: []string{"evil", NodeID(0)}, Slots: 1 << 20,
		Ingress: netip.MustParseAddr("203.0.113.1"),
	}
	mustNot(t, wire.Sign(&forged, Key("evil")))
	mustNot(t, n.Inject("evil", NodeID(2), wire.Update{Announce: []wire.Route{forged}}))
	n.Run(time.Minute)

	refused := events(n, fsm.RouteRefused)
	if len(refused) != 1 || refused[0].Node != NodeID(2) || !errors.Is(refused[0].Err, rib.ErrBadSignature) {
		t.Fatalf("refusals = %+v", refused)
	}
	if got := n.Speaker(NodeID(2)).RIB().Stats().BadSignatures; got != 1 {
		t.Fatalf("bad signatures counted = %d", got)
	}
	for _, id := range n.IDs() {
		for _, p := range n.Speaker(id).RIB().Candidates("video") {
			if p.Route.Address == forged.Address {
				t.Fatalf("%s holds the forged route", id)
			}
		}
	}
	if got := path(n, NodeID(3), "video"); got != "d002,d001,d000" {
		t.Fatalf("genuine route at d003 = %q", got)
	}
	if s := n.Speaker(NodeID(2)).State("evil"); s != fsm.Established {
		t.Fatalf("session with the hijacker is %v; one bad route should not close it", s)
	}
}

// TestLoopRefused: senders do not export a path to a domain already on it,
// so a loop only arrives from a broken or malicious peer; the receiver
// refuses it.
func TestLoopRefused(t *testing.T) {
	n := build(t, Ring(4, time.Millisecond), nil)
	mustNot(t, n.Announce(NodeID(0), service("video", 10)))
	n.Run(time.Minute)
	if got := n.Speaker(NodeID(2)).RIB().Stats().Loops; got != 0 {
		t.Fatalf("loops received in a well-behaved ring: %d", got)
	}
	looped := wire.Route{
		Service: "video", Address: netip.MustParseAddr("198.51.100.7"), Port: 443, Proto: wire.TCP,
		Origin: NodeID(0), Path: []string{NodeID(1), NodeID(2), NodeID(3), NodeID(0)},
		Ingress: netip.MustParseAddr("192.0.2.1"),
	}
	mustNot(t, wire.Sign(&looped, Key(NodeID(0))))
	mustNot(t, n.Inject(NodeID(1), NodeID(2), wire.Update{Announce: []wire.Route{looped}}))
	n.Run(time.Minute)
	if got := n.Speaker(NodeID(2)).RIB().Stats().Loops; got != 1 {
		t.Fatalf("looped route not refused: %d", got)
	}
	// Treat-as-withdraw: d001's previous route is gone, d003's remains.
	if got := path(n, NodeID(2), "video"); got != "d003,d000" {
		t.Fatalf("d002 path = %q", got)
	}
}

func dampingOn(_ string, c *fsm.Config) {
	d := damping.RIPE580()
	c.Damping = &d
}

func TestDampingSuppressesFlapping(t *testing.T) {
	n := build(t, Line(3, time.Millisecond), dampingOn)
	for range 8 {
		mustNot(t, n.Announce(NodeID(0), service("video", 10)))
		n.Run(10 * time.Second)
		n.Withdraw(NodeID(0), "video")
		n.Run(10 * time.Second)
	}
	mustNot(t, n.Announce(NodeID(0), service("video", 10)))
	n.Run(time.Minute)
	// Each hop damps on its own: d001 suppresses d000's route, and d002,
	// which saw the same flaps relayed, suppresses d001's.
	sup := events(n, fsm.RouteSuppressed)
	if len(sup) == 0 || sup[0].Node != NodeID(1) {
		t.Fatalf("suppressions = %+v, want d001 first", sup)
	}
	if got := path(n, NodeID(2), "video"); got != "" {
		t.Fatalf("flapping route still propagated: %q", got)
	}
	// The origin is stable now; the penalty decays and the route returns
	// within the maximum suppress time.
	n.Run(time.Hour)
	if len(events(n, fsm.RouteReused)) != len(sup) {
		t.Fatal("route not reused")
	}
	if got := path(n, NodeID(2), "video"); got != "d001,d000" {
		t.Fatalf("after reuse d002 path = %q", got)
	}
}

// TestDampingIgnoresPathHunting: in a full mesh, a withdrawal makes every
// domain try the paths through the others before giving up (path
// exploration). That must not suppress anything. (Without an MRAI, path
// hunting in a full mesh is exponential and does reach the threshold; the
// MRAI is what bounds it, as RIPE-580 assumes.) An origin that retracts
// prevents path hunting (TestRetractionNoPathExploration), so this origin
// sends plain withdrawals, as one of the first protocol version does.
func TestDampingIgnoresPathHunting(t *testing.T) {
	n := build(t, Random(12, 6, time.Millisecond, 30*time.Millisecond, 3), func(id string, c *fsm.Config) {
		dampingOn(id, c)
		c.DisableRetractions = true
	})
	mustNot(t, n.Announce(NodeID(0), service("video", 10)))
	n.Run(time.Minute)
	n.ResetStats()
	n.Withdraw(NodeID(0), "video")
	n.Run(time.Minute)
	st := n.Stats()
	if st.Announced == 0 {
		t.Fatalf("no path exploration happened (withdrawn %d); the test shows nothing", st.Withdrawn)
	}
	if sup := events(n, fsm.RouteSuppressed); len(sup) != 0 {
		t.Fatalf("path hunting after one withdrawal suppressed routes: %+v", sup)
	}
	if h := holders(n, "video"); len(h) != 0 {
		t.Fatalf("still held by %v", h)
	}
	t.Logf("withdrawal in a 12-domain graph of degree 6: %d announcements explored, %d withdrawals", st.Announced, st.Withdrawn)
}

// TestMRAIBatchesAnnouncementsNotWithdrawals.
func TestMRAIBatchesAnnouncementsNotWithdrawals(t *testing.T) {
	n := build(t, Line(2, time.Millisecond), func(_ string, c *fsm.Config) { c.MRAI = 30 * time.Second })
	type rx struct {
		at time.Duration
		u  wire.Update
	}
	var got []rx
	n.Trace = func(at time.Time, from, to string, m wire.Message) {
		if u, ok := m.(wire.Update); ok && to == NodeID(1) {
			got = append(got, rx{at.Sub(t0), u})
		}
	}
	start := n.Now().Sub(t0)
	mustNot(t, n.Announce(NodeID(0), service("a", 1))) // first: at once
	n.Run(time.Second)
	mustNot(t, n.Announce(NodeID(0), service("b", 1))) // batched…
	n.Run(time.Second)
	mustNot(t, n.Announce(NodeID(0), service("c", 1))) // …with this one
	n.Run(time.Second)
	n.Withdraw(NodeID(0), "a") // not batched
	n.Run(time.Minute)
	if len(got) != 3 {
		t.Fatalf("updates received: %+v", got)
	}
	ms := time.Millisecond
	checks := []struct {
		at       time.Duration
		announce int
		withdraw int
	}{
		{start + ms, 1, 0},
		{start + 3*time.Second + ms, 0, 1},
		{start + 30*time.Second + ms, 2, 0},
	}
	for i, c := range checks {
		if got[i].at != c.at || len(got[i].u.Announce) != c.announce || len(got[i].u.Withdraw) != c.withdraw {
			t.Fatalf("update %d at %v: %d announced, %d withdrawn; want at %v %d/%d",
				i, got[i].at, len(got[i].u.Announce), len(got[i].u.Withdraw), c.at, c.announce, c.withdraw)
		}
	}
}

func TestHoldTimerExpiryWithdraws(t *testing.T) {
	n := build(t, Line(3, time.Millisecond), func(_ string, c *fsm.Config) { c.HoldTime = 9 * time.Second })
	mustNot(t, n.Announce(NodeID(0), service("video", 10)))
	n.Run(time.Minute)
	if path(n, NodeID(2), "video") == "" {
		t.Fatal("not converged")
	}
	// Keepalives keep idle sessions up for much longer than the hold time.
	if len(events(n, fsm.SessionDown)) != 0 {
		t.Fatal("idle session went down despite keepalives")
	}
	var last time.Time
	n.Trace = func(at time.Time, from, to string, _ wire.Message) {
		if from == NodeID(0) && to == NodeID(1) {
			last = at
		}
	}
	n.Run(time.Second) // let a message be heard, so last is set
	mustNot(t, n.Blackhole(NodeID(0), NodeID(1)))
	n.Run(20 * time.Second)
	// d001 notices exactly a hold time after it last heard from d000 (the
	// close by d000, if it noticed first, is black-holed too).
	var expired []NodeEvent
	for _, e := range events(n, fsm.SessionDown) {
		if e.Node == NodeID(1) && isNotification(e.Err, wire.CodeHoldTimerExpired) {
			expired = append(expired, e)
		}
	}
	if len(expired) != 1 || !expired[0].At.Equal(last.Add(9*time.Second)) {
		t.Fatalf("hold expiry at d001: %+v, last heard %v", expired, last)
	}
	if h := holders(n, "video"); len(h) != 1 || h[0] != NodeID(0) {
		t.Fatalf("after hold expiry the route is held by %v", h)
	}
}

func TestGracefulRestart(t *testing.T) {
	gr := func(_ string, c *fsm.Config) { c.RestartTime = time.Minute }
	t.Run("refreshed routes kept, others flushed at END-OF-RIB", func(t *testing.T) {
		n := build(t, Line(3, time.Millisecond), gr)
		mustNot(t, n.Announce(NodeID(0), service("kept", 10)))
		mustNot(t, n.Announce(NodeID(0), service("dropped", 10)))
		n.Run(time.Minute)
		mustNot(t, n.Crash(NodeID(0)))
		n.Run(30 * time.Second)
		for _, svc := range []string{"kept", "dropped"} {
			b, ok := n.Speaker(NodeID(1)).RIB().Best(svc)
			if !ok || !b.Stale {
				t.Fatalf("%s: during the restart d001 has %+v, want a stale route", svc, b)
			}
			if path(n, NodeID(2), svc) == "" {
				t.Fatalf("%s: d002 lost the route during the restart", svc)
			}
		}
		mustNot(t, n.Announce(NodeID(0), service("kept", 10)))
		mustNot(t, n.Connect(NodeID(0), NodeID(1)))
		n.Run(time.Second)
		if len(events(n, fsm.StaleFlushed)) != 1 {
			t.Fatal("no END-OF-RIB flush")
		}
		if b, ok := n.Speaker(NodeID(1)).RIB().Best("kept"); !ok || b.Stale {
			t.Fatalf("kept: %+v", b)
		}
		if h := holders(n, "dropped"); len(h) != 0 {
			t.Fatalf("dropped still held by %v", h)
		}
	})
	t.Run("flushed when the peer does not return", func(t *testing.T) {
		n := build(t, Line(3, time.Millisecond), gr)
		mustNot(t, n.Announce(NodeID(0), service("video", 10)))
		n.Run(time.Minute)
		mustNot(t, n.Crash(NodeID(0)))
		n.Run(59 * time.Second)
		if path(n, NodeID(2), "video") == "" {
			t.Fatal("route lost before the restart time")
		}
		n.Run(2 * time.Second)
		if h := holders(n, "video"); len(h) != 0 {
			t.Fatalf("stale route still held by %v after the restart time", h)
		}
	})
	t.Run("link cut and restored: nothing lost downstream", func(t *testing.T) {
		n := build(t, Line(3, time.Millisecond), gr)
		mustNot(t, n.Announce(NodeID(0), service("video", 10)))
		n.Run(time.Minute)
		n.ResetStats()
		mustNot(t, n.Cut(NodeID(0), NodeID(1)))
		n.Run(10 * time.Second)
		mustNot(t, n.Connect(NodeID(0), NodeID(1)))
		n.Run(time.Second)
		if b, ok := n.Speaker(NodeID(1)).RIB().Best("video"); !ok || b.Stale {
			t.Fatalf("after reconnection d001 has %+v", b)
		}
		if c := n.Stats().Changes[NodeID(2)]; c != 0 {
			t.Fatalf("d002's route changed %d times during a graceful restart", c)
		}
	})
	t.Run("no graceful restart: withdrawn at once", func(t *testing.T) {
		n := build(t, Line(3, time.Millisecond), nil)
		mustNot(t, n.Announce(NodeID(0), service("video", 10)))
		n.Run(time.Minute)
		mustNot(t, n.Crash(NodeID(0)))
		n.Run(time.Second)
		if h := holders(n, "video"); len(h) != 0 {
			t.Fatalf("held by %v", h)
		}
	})
}

func TestMaxRoutesClosesSession(t *testing.T) {
	top := Line(3, time.Millisecond)
	n := build(t, top, func(id string, c *fsm.Config) {
		if id == NodeID(1) {
			c.Peers = []fsm.PeerConfig{{ID: NodeID(0), MaxRoutes: 2}}
		}
	})
	mustNot(t, n.Announce(NodeID(2), service("other", 1)))
	mustNot(t, n.Announce(NodeID(0), service("a", 1)))
	mustNot(t, n.Announce(NodeID(0), service("b", 1)))
	n.Run(time.Minute)
	if path(n, NodeID(1), "b") == "" {
		t.Fatal("routes within the limit refused")
	}
	mustNot(t, n.Announce(NodeID(0), service("c", 1)))
	n.Run(time.Minute)
	var fromPeer, local bool
	for _, e := range events(n, fsm.SessionDown) {
		switch {
		case e.Node == NodeID(1) && isNotification(e.Err, wire.CodeCease):
			local = true
		case e.Node == NodeID(0) && isNotification(e.Err, wire.CodeCease):
			var nt wire.Notification
			errors.As(e.Err, &nt)
			fromPeer = nt.Subcode == wire.CeaseMaxRoutes && nt.Text == "route limit exceeded: 3 routes, maximum 2"
		}
	}
	if !local || !fromPeer {
		t.Fatalf("session down events: %+v", events(n, fsm.SessionDown))
	}
	if s := n.Speaker(NodeID(1)).State(NodeID(0)); s != fsm.Idle {
		t.Fatalf("session state %v", s)
	}
	for _, svc := range []string{"a", "b", "c"} {
		if h := holders(n, svc); len(h) != 1 || h[0] != NodeID(0) {
			t.Fatalf("%s held by %v", svc, h)
		}
	}
	if path(n, NodeID(1), "other") == "" || n.Speaker(NodeID(1)).State(NodeID(2)) != fsm.Established {
		t.Fatal("the other session was disturbed")
	}
}

// TestSlotChurnDoesNotChurnRoutes: two origins at the same distance from
// d001; slot counts moving within the thresholds are not even re-announced
// (origin rate limit), and would not move d001's choice if they were
// (hysteresis, see rib's TestHysteresis); a big move does.
func TestSlotChurnDoesNotChurnRoutes(t *testing.T) {
	n := build(t, Line(3, time.Millisecond), nil)
	mustNot(t, n.Announce(NodeID(0), service("video", 100)))
	mustNot(t, n.Announce(NodeID(2), service("video", 100)))
	n.Run(time.Minute)
	if got := path(n, NodeID(1), "video"); got != NodeID(0) {
		t.Fatalf("initial choice %q, want d000 (lower origin at a tie)", got)
	}
	n.ResetStats()
	for i, slots := range []uint32{112, 96, 118, 104, 119, 101} {
		mustNot(t, n.Announce(NodeID(2), service("video", slots)))
		n.Run(time.Duration(i+1) * 700 * time.Millisecond)
	}
	n.Run(time.Minute)
	if got := path(n, NodeID(1), "video"); got != NodeID(0) {
		t.Fatalf("slot churn moved d001 to %q", got)
	}
	if c := n.Stats().Changes[NodeID(1)]; c != 0 {
		t.Fatalf("d001's best path changed %d times under slot churn", c)
	}
	mustNot(t, n.Announce(NodeID(2), service("video", 200)))
	n.Run(time.Minute)
	if got := path(n, NodeID(1), "video"); got != NodeID(2) {
		t.Fatalf("a big slot lead did not win: %q", got)
	}
}

// TestGracefulRestartFailsAgain: a peer that fails again before its session
// is re-established does not extend its grace: the first restart timer
// still flushes its routes.
func TestGracefulRestartFailsAgain(t *testing.T) {
	n := build(t, Line(2, time.Millisecond), func(_ string, c *fsm.Config) { c.RestartTime = time.Minute })
	mustNot(t, n.Announce(NodeID(0), service("a", 10)))
	mustNot(t, n.Announce(NodeID(0), service("b", 10)))
	n.Run(time.Minute)
	mustNot(t, n.Crash(NodeID(0)))
	n.Run(20 * time.Second)
	mustNot(t, n.Announce(NodeID(0), service("a", 10)))
	mustNot(t, n.Connect(NodeID(0), NodeID(1)))
	n.Run(time.Millisecond / 2) // OPENs in flight
	mustNot(t, n.Crash(NodeID(0)))
	n.Run(39 * time.Second)
	if b, ok := n.Speaker(NodeID(1)).RIB().Best("a"); !ok || !b.Stale {
		t.Fatalf("a before the first restart time: %+v", b)
	}
	n.Run(2 * time.Second)
	if h := holders(n, "a"); len(h) != 0 {
		t.Fatalf("routes outlived the first restart time: held by %v", h)
	}
}

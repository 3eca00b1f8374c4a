package fsm

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

func updates(ms []wire.Message) []wire.Update {
	var out []wire.Update
	for _, m := range ms {
		if u, ok := m.(wire.Update); ok {
			out = append(out, u)
		}
	}
	return out
}

// TestWithdrawSendsRetraction: the origin's withdrawal carries its signed
// retraction of the route's epoch in the same UPDATE; the receiver drops the
// route, remembers the epoch and does not send the retraction back; a new
// announcement starts a newer epoch.
func TestWithdrawSendsRetraction(t *testing.T) {
	p := newPair(t, nil)
	must(t, p.a.Announce(p.now, svc("s", 10)))
	p.pump()
	got, ok := p.b.RIB().Best("s")
	if !ok || got.Route.Epoch == 0 {
		t.Fatalf("B's route %+v", got)
	}
	epoch := got.Route.Epoch
	// Slot updates keep the epoch.
	p.advance(20 * time.Second)
	must(t, p.a.Announce(p.now, svc("s", 100)))
	p.pump()
	if b, _ := p.b.RIB().Best("s"); b.Route.Slots != 100 || b.Route.Epoch != epoch {
		t.Fatalf("after a slot update: %+v", b.Route)
	}
	p.take("A")
	p.take("B")
	p.a.Withdraw(p.now, "s")
	p.pump()
	us := updates(p.take("B"))
	if len(us) != 1 || len(us[0].Withdraw) != 1 || len(us[0].Retract) != 1 {
		t.Fatalf("B received %+v, want one UPDATE with the withdrawal and the retraction", us)
	}
	r := us[0].Retract[0]
	if r.Service != "s" || r.Origin != "A" || r.Epoch != epoch {
		t.Fatalf("retraction %+v, want epoch %d", r, epoch)
	}
	must(t, wire.VerifyRetraction(r, testKey("A").Public().(ed25519.PublicKey)))
	if _, ok := p.b.RIB().Best("s"); ok {
		t.Fatal("B kept the route")
	}
	if e, ok := p.b.RIB().Tombstone("s", "A"); !ok || e != epoch {
		t.Fatalf("B's tombstone %d %v", e, ok)
	}
	if us := updates(p.take("A")); len(us) != 0 {
		t.Fatalf("B sent back %+v", us)
	}
	// A new origination is a new epoch, accepted.
	p.advance(20 * time.Second)
	must(t, p.a.Announce(p.now, svc("s", 10)))
	p.pump()
	if b, ok := p.b.RIB().Best("s"); !ok || b.Route.Epoch <= epoch {
		t.Fatalf("re-announced route %+v", b.Route)
	}
}

func TestWithdrawWithoutRetractions(t *testing.T) {
	p := newPair(t, func(a, _ *Config) { a.DisableRetractions = true })
	must(t, p.a.Announce(p.now, svc("s", 10)))
	p.pump()
	p.take("B")
	p.a.Withdraw(p.now, "s")
	p.pump()
	us := updates(p.take("B"))
	if len(us) != 1 || len(us[0].Retract) != 0 || len(us[0].Withdraw) != 1 {
		t.Fatalf("B received %+v", us)
	}
}

// hub is speaker H with established sessions to A, B and C (origin O is
// further away), driven by hand.
type hub struct {
	t   *testing.T
	h   *Speaker
	now time.Time
}

func newHub(t *testing.T) *hub {
	t.Helper()
	c := Config{
		LocalID: "H", Key: testKey("H"), Keys: testKeys("A", "B", "C", "H", "O"),
		Peers:    []PeerConfig{{ID: "A"}, {ID: "B"}, {ID: "C"}},
		HoldTime: 9 * time.Second, MRAI: 10 * time.Second,
	}
	h, err := New(c)
	must(t, err)
	x := &hub{t: t, h: h, now: t0}
	for _, id := range []string{"A", "B", "C"} {
		must(t, h.Connected(x.now, id))
		must(t, h.Receive(x.now, id, wire.Open{Version: wire.Version, DomainID: id, HoldTime: 9 * time.Second}))
		must(t, h.Receive(x.now, id, wire.Keepalive{}))
		if h.State(id) != Established {
			t.Fatalf("%s: %v", id, h.State(id))
		}
	}
	h.Ready()
	return x
}

// oRoute is O's route for s at epoch, as announced with path.
func oRoute(epoch uint64, path ...string) wire.Route {
	r := wire.Route{
		Service: "s", Address: mustAddr("198.51.100.1"), Port: 80, Proto: wire.TCP,
		Origin: "O", Path: path, Slots: 10, Ingress: mustAddr("192.0.2.1"), Epoch: epoch,
	}
	if err := wire.Sign(&r, testKey("O")); err != nil {
		panic(err)
	}
	return r
}

func oRetraction(epoch uint64, key ed25519.PrivateKey) wire.Retraction {
	r := wire.Retraction{Service: "s", Origin: "O", Epoch: epoch}
	if err := wire.SignRetraction(&r, key); err != nil {
		panic(err)
	}
	return r
}

// sentTo returns the UPDATEs of out for peer.
func sentTo(out Output, peer string) []wire.Update {
	var ms []wire.Message
	for _, m := range out.Messages {
		if m.Peer == peer {
			ms = append(ms, m.Msg)
		}
	}
	return updates(ms)
}

// TestRetractionFloodsOnceAndDropsRoutes: a retraction from A removes the
// paths of that origin and epoch from A and B at once (the best path goes
// straight to none, never to B's stale alternate), goes on to B and C with
// the withdrawal, exempt from the MRAI, and is ignored when B relays it
// back; B's stale announcement is refused quietly.
func TestRetractionFloodsOnceAndDropsRoutes(t *testing.T) {
	x := newHub(t)
	h := x.h
	must(t, h.Receive(x.now, "A", wire.Update{Announce: []wire.Route{oRoute(7, "A", "O")}}))
	must(t, h.Receive(x.now, "B", wire.Update{Announce: []wire.Route{oRoute(7, "B", "X", "O")}}))
	h.Ready()
	// Announcements to B and C now wait for the MRAI; the retraction must
	// not.
	must(t, h.Receive(x.now.Add(time.Second), "A", wire.Update{Withdraw: []string{"s"}, Retract: []wire.Retraction{oRetraction(7, testKey("O"))}}))
	out := h.Ready()
	if len(out.Changes) != 1 || out.Changes[0].New != nil {
		t.Fatalf("changes %+v, want one, to no route", out.Changes)
	}
	if _, ok := h.RIB().Get("B", "s"); ok {
		t.Fatal("B's path of the retracted epoch kept")
	}
	if us := sentTo(out, "A"); len(us) != 0 {
		t.Fatalf("sent back to A: %+v", us)
	}
	for _, id := range []string{"B", "C"} {
		us := sentTo(out, id)
		if len(us) != 1 || len(us[0].Retract) != 1 || us[0].Retract[0].Epoch != 7 {
			t.Fatalf("to %s: %+v", id, us)
		}
	}
	// Both had our route via A: its withdrawal is in the same UPDATE.
	for _, id := range []string{"B", "C"} {
		if us := sentTo(out, id); len(us[0].Withdraw) != 1 {
			t.Fatalf("to %s: %+v", id, us)
		}
	}
	// B relays the same retraction: nothing happens.
	must(t, h.Receive(x.now.Add(time.Second), "B", wire.Update{Withdraw: []string{"s"}, Retract: []wire.Retraction{oRetraction(7, testKey("O"))}}))
	if out := h.Ready(); !out.Empty() {
		t.Fatalf("a known retraction did something: %+v", out)
	}
	// C, which had not heard yet, announces the retracted epoch: refused,
	// counted, no event.
	must(t, h.Receive(x.now.Add(time.Second), "C", wire.Update{Announce: []wire.Route{oRoute(7, "C", "O")}}))
	if out := h.Ready(); !out.Empty() {
		t.Fatalf("a stale announcement did something: %+v", out)
	}
	if st := h.RIB().Stats(); st.Stale != 1 {
		t.Fatalf("stats %+v", st)
	}
	// O starts again: a newer epoch is a route like any other.
	must(t, h.Receive(x.now.Add(2*time.Second), "C", wire.Update{Announce: []wire.Route{oRoute(8, "C", "O")}}))
	if b, ok := h.RIB().Best("s"); !ok || b.Route.Epoch != 8 {
		t.Fatalf("new epoch: %+v", b)
	}
	// The tombstone is forgotten after its TTL, on a Tick.
	h.Tick(x.now.Add(rib.DefaultTombstoneTTL))
	if _, ok := h.RIB().Tombstone("s", "O"); !ok {
		t.Fatal("tombstone forgotten early")
	}
	h.Tick(x.now.Add(rib.DefaultTombstoneTTL + time.Second))
	if _, ok := h.RIB().Tombstone("s", "O"); ok {
		t.Fatal("tombstone kept after its TTL")
	}
}

// TestForgedRetractionIgnored: a retraction that does not verify against
// its origin's key, or from an unknown origin, is counted and reported; it
// drops nothing, is not flooded, and the session stays up.
func TestForgedRetractionIgnored(t *testing.T) {
	x := newHub(t)
	h := x.h
	must(t, h.Receive(x.now, "A", wire.Update{Announce: []wire.Route{oRoute(7, "A", "O")}}))
	h.Ready()
	unknown := wire.Retraction{Service: "s", Origin: "Z", Epoch: 7}
	must(t, wire.SignRetraction(&unknown, testKey("Z")))
	must(t, h.Receive(x.now, "B", wire.Update{Retract: []wire.Retraction{oRetraction(7, testKey("B")), unknown}}))
	out := h.Ready()
	if len(out.Messages) != 0 || len(out.Changes) != 0 || len(out.Close) != 0 {
		t.Fatalf("forged retraction did something: %+v", out)
	}
	if len(out.Events) != 2 || out.Events[0].Kind != RetractionRefused || !errors.Is(out.Events[0].Err, rib.ErrBadSignature) ||
		!errors.Is(out.Events[1].Err, rib.ErrUnknownOrigin) {
		t.Fatalf("events %+v", out.Events)
	}
	if st := h.RIB().Stats(); st.BadRetractions != 1 || st.UnknownRetractions != 1 {
		t.Fatalf("stats %+v", st)
	}
	if _, ok := h.RIB().Best("s"); !ok || h.State("B") != Established {
		t.Fatal("route dropped or session closed")
	}
	if _, ok := h.RIB().Tombstone("s", "O"); ok {
		t.Fatal("forged retraction remembered")
	}
	// The genuine one still works afterwards.
	must(t, h.Receive(x.now, "B", wire.Update{Retract: []wire.Retraction{oRetraction(7, testKey("O"))}}))
	if _, ok := h.RIB().Best("s"); ok {
		t.Fatal("genuine retraction ignored")
	}
}

// TestOwnRetractionFromThePast: after a restart with a clock behind the one
// that signed an old retraction of ours, that retraction comes back; we
// start a newer epoch rather than lose the route.
func TestOwnRetractionFromThePast(t *testing.T) {
	x := newHub(t)
	h := x.h
	must(t, h.Announce(x.now, svc("s", 10)))
	r, _ := h.RIB().Local("s")
	old := wire.Retraction{Service: "s", Origin: "H", Epoch: r.Epoch + 100}
	must(t, wire.SignRetraction(&old, testKey("H")))
	h.Ready()
	must(t, h.Receive(x.now, "A", wire.Update{Retract: []wire.Retraction{old}}))
	now, ok := h.RIB().Local("s")
	if !ok || now.Epoch <= old.Epoch {
		t.Fatalf("local route %+v after our old retraction of epoch %d", now, old.Epoch)
	}
	must(t, wire.Verify(now, testKey("H").Public().(ed25519.PublicKey)))
}

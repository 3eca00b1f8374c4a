package rib

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// epochRoute is route with an epoch, signed by its origin.
func epochRoute(service string, epoch uint64, slots uint32, path ...string) wire.Route {
	r := route(service, slots, 0, path...)
	r.Epoch = epoch
	if err := wire.Sign(&r, keys[r.Origin]); err != nil {
		panic(err)
	}
	return r
}

func retraction(service, origin string, epoch uint64) wire.Retraction {
	r := wire.Retraction{Service: service, Origin: origin, Epoch: epoch}
	if err := wire.SignRetraction(&r, keys[origin]); err != nil {
		panic(err)
	}
	return r
}

func mustLearn(t *testing.T, r *RIB, peer string, rt wire.Route) {
	t.Helper()
	if _, err := r.Learn(peer, rt); err != nil {
		t.Fatalf("learn %s from %s: %v", rt.Service, peer, err)
	}
}

// TestRetractDropsEveryPathOfThatOrigin: one retraction removes the paths
// of that origin and epoch learnt from every peer at once (no stale
// alternate to fall back on), and keeps other origins' and newer epochs'.
func TestRetractDropsEveryPathOfThatOrigin(t *testing.T) {
	r := New(Config{LocalID: "L", Keys: known()})
	mustLearn(t, r, "X", epochRoute("s", 5, 10, "X", "A"))
	mustLearn(t, r, "Y", epochRoute("s", 5, 10, "Y", "Z", "A"))
	mustLearn(t, r, "Z", epochRoute("s", 4, 10, "Z", "Q", "W", "A")) // an older epoch
	mustLearn(t, r, "W", epochRoute("s", 9, 10, "W", "V", "U", "T", "A"))
	mustLearn(t, r, "V", epochRoute("s", 1, 10, "V", "S", "R", "P", "O", "B")) // another origin
	mustLearn(t, r, "X", epochRoute("t", 5, 10, "X", "A"))                     // another service
	if b, _ := r.Best("s"); b.Peer != "X" {
		t.Fatalf("best via %s", b.Peer)
	}
	c, dropped := r.Retract(t0, retraction("s", "A", 5))
	if fmt.Sprint(dropped) != "[X Y Z]" {
		t.Fatalf("dropped %v", dropped)
	}
	// The best goes straight to the surviving path, never to Y's or Z's.
	if c == nil || c.Old.Peer != "X" || c.New == nil || c.New.Peer != "W" {
		t.Fatalf("change %+v", c)
	}
	if _, ok := r.Get("V", "s"); !ok {
		t.Fatal("another origin's path dropped")
	}
	if _, ok := r.Best("t"); !ok {
		t.Fatal("another service's path dropped")
	}
	if e, ok := r.Tombstone("s", "A"); !ok || e != 5 {
		t.Fatalf("tombstone %d %v", e, ok)
	}
	// The same or an older retraction again changes nothing.
	for _, e := range []uint64{5, 3} {
		if r.NewRetraction(retraction("s", "A", e)) {
			t.Fatal("a repeated retraction counted as new")
		}
		if c, d := r.Retract(t0, retraction("s", "A", e)); c != nil || d != nil {
			t.Fatalf("epoch %d again: %+v %v", e, c, d)
		}
	}
	// A newer one takes the rest of A's paths.
	c, dropped = r.Retract(t0, retraction("s", "A", 9))
	if fmt.Sprint(dropped) != "[W]" || c == nil || c.New == nil || c.New.Peer != "V" {
		t.Fatalf("second retraction: %+v %v", c, dropped)
	}
}

// TestStaleAnnouncementRefused: an announcement still in flight when the
// retraction passed is refused and counted; a newer epoch re-originates.
func TestStaleAnnouncementRefused(t *testing.T) {
	r := New(Config{LocalID: "L", Keys: known()})
	mustLearn(t, r, "X", epochRoute("s", 5, 10, "X", "A"))
	r.Retract(t0, retraction("s", "A", 5))
	for _, e := range []uint64{5, 4, 0} {
		if _, err := r.Learn("Y", epochRoute("s", e, 10, "Y", "A")); !errors.Is(err, ErrStale) {
			t.Fatalf("epoch %d: %v, want ErrStale", e, err)
		}
	}
	if st := r.Stats(); st.Stale != 3 || st.BadSignatures != 0 {
		t.Fatalf("stats %+v", st)
	}
	if _, ok := r.Best("s"); ok {
		t.Fatal("stale route installed")
	}
	if _, err := r.Learn("Y", epochRoute("s", 6, 10, "Y", "A")); err != nil {
		t.Fatalf("newer epoch: %v", err)
	}
	if b, ok := r.Best("s"); !ok || b.Route.Epoch != 6 {
		t.Fatalf("best %+v", b)
	}
	// Another origin of the same service is not affected.
	if _, err := r.Learn("Z", epochRoute("s", 1, 10, "Z", "B")); err != nil {
		t.Fatal(err)
	}
}

// TestRetractLocal: our own route goes only with our own retraction.
func TestRetractLocal(t *testing.T) {
	r := New(Config{LocalID: "A", Keys: known()})
	local := epochRoute("s", 5, 10, "A")
	r.Originate(local)
	if c, _ := r.Retract(t0, retraction("s", "B", 9)); c != nil {
		t.Fatal("another origin's retraction dropped our route")
	}
	if c, d := r.Retract(t0, retraction("s", "A", 4)); c != nil || d != nil {
		t.Fatal("an older epoch of ours dropped our route")
	}
	if c, d := r.Retract(t0, retraction("s", "A", 5)); c == nil || c.New != nil || len(d) != 1 || d[0] != "" {
		t.Fatalf("our retraction: %+v %q", c, d)
	}
	if _, ok := r.Local("s"); ok {
		t.Fatal("local route kept")
	}
}

func TestCheckRetraction(t *testing.T) {
	r := New(Config{LocalID: "L", Keys: known()})
	good := retraction("s", "A", 5)
	if err := r.CheckRetraction(good); err != nil {
		t.Fatal(err)
	}
	forged := good.Clone()
	forged.Epoch = 6
	if err := r.CheckRetraction(forged); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("forged: %v", err)
	}
	other := good.Clone()
	other.Origin = "nobody"
	if err := r.CheckRetraction(other); !errors.Is(err, ErrUnknownOrigin) {
		t.Fatalf("unknown origin: %v", err)
	}
	if st := r.Stats(); st.BadRetractions != 1 || st.UnknownRetractions != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestTombstonesBounded: tombstones expire after the TTL and are capped per
// service.
func TestTombstonesBounded(t *testing.T) {
	r := New(Config{LocalID: "L", Keys: known(), TombstoneTTL: time.Minute, MaxTombstones: 2})
	r.Retract(t0, retraction("s", "A", 1))
	r.Retract(t0.Add(time.Second), retraction("s", "B", 1))
	r.Retract(t0.Add(2*time.Second), retraction("s", "C", 1))
	if _, ok := r.Tombstone("s", "A"); ok || r.Tombstones() != 2 {
		t.Fatalf("cap: %d tombstones, A kept %v", r.Tombstones(), ok)
	}
	r.Retract(t0.Add(30*time.Second), retraction("t", "A", 1))
	r.ExpireTombstones(t0.Add(time.Minute + time.Second))
	if _, ok := r.Tombstone("s", "B"); ok {
		t.Fatal("expired tombstone kept")
	}
	if r.Tombstones() != 2 { // s/C and t/A
		t.Fatalf("%d tombstones", r.Tombstones())
	}
	r.ExpireTombstones(t0.Add(time.Hour))
	if r.Tombstones() != 0 {
		t.Fatalf("%d tombstones after an hour", r.Tombstones())
	}
	// Once forgotten, the epoch is accepted again (the TTL must exceed
	// propagation so that nothing stale is left by then).
	if _, err := r.Learn("X", epochRoute("s", 1, 10, "X", "A")); err != nil {
		t.Fatal(err)
	}
}

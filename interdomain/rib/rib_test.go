package rib

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

func key(seed byte) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	s[0] = seed
	return ed25519.NewKeyFromSeed(s)
}

var keys = map[string]ed25519.PrivateKey{"A": key(1), "B": key(2), "C": key(3), "D": key(4)}

func known() StaticKeys {
	k := StaticKeys{}
	for d, p := range keys {
		k[d] = p.Public().(ed25519.PublicKey)
	}
	return k
}

// route builds a route signed by its origin, the last element of path.
func route(service string, slots, metric uint32, path ...string) wire.Route {
	origin := path[len(path)-1]
	r := wire.Route{
		Service: service, Address: netip.MustParseAddr("192.0.2.1"), Port: 80, Proto: wire.TCP,
		Origin: origin, Path: path, Slots: slots, Metric: metric,
		Ingress: netip.MustParseAddr("192.0.2.254"),
	}
	if k, ok := keys[origin]; ok {
		if err := wire.Sign(&r, k); err != nil {
			panic(err)
		}
	}
	return r
}

type learn struct {
	peer string
	r    wire.Route
}

func TestBestPath(t *testing.T) {
	pref := func(peer string, _ wire.Route) int {
		if peer == "P" {
			return 200
		}
		return DefaultPreference
	}
	tests := []struct {
		name     string
		learns   []learn
		wantPeer string
		reason   string
	}{
		{"only path", []learn{{"X", route("s", 10, 0, "X1", "A")}}, "X", "only path"},
		{"local preference beats path length", []learn{
			{"X", route("s", 10, 0, "A")}, {"P", route("s", 10, 0, "P1", "P2", "B")}}, "P", "higher local preference (200 vs 100) than via X"},
		{"shorter path", []learn{
			{"X", route("s", 10, 0, "X", "Y", "A")}, {"Y", route("s", 5, 0, "Y", "A")}}, "Y", "shorter domain path (2 vs 3 hops) than via X"},
		{"more slots", []learn{
			{"X", route("s", 10, 0, "X", "A")}, {"Y", route("s", 50, 0, "Y", "B")}}, "Y", "more free slots (50 vs 10) than via X"},
		{"lower metric", []learn{
			{"X", route("s", 10, 9, "X", "A")}, {"Y", route("s", 10, 3, "Y", "B")}}, "Y", "lower metric (3 vs 9) than via X"},
		{"lower origin", []learn{
			{"X", route("s", 10, 3, "X", "B")}, {"Y", route("s", 10, 3, "Y", "A")}}, "Y", "lower origin id (A vs B) than via X"},
		{"lower peer", []learn{
			{"Y", route("s", 10, 3, "Q", "A")}, {"X", route("s", 10, 3, "Q", "A")}}, "X", "lower peer id (via X vs via Y) than via Y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(Config{LocalID: "L", Keys: known(), Preference: pref})
			for _, l := range tt.learns {
				if _, err := r.Learn(l.peer, l.r); err != nil {
					t.Fatal(err)
				}
			}
			b, ok := r.Best("s")
			if !ok || b.Peer != tt.wantPeer || b.Reason != tt.reason {
				t.Fatalf("best = %v %q (%q), want %q (%q)", ok, b.Peer, b.Reason, tt.wantPeer, tt.reason)
			}
		})
	}
}

func TestLocalRouteWins(t *testing.T) {
	r := New(Config{LocalID: "A", Keys: known()})
	if _, err := r.Learn("B", route("s", 1000, 0, "B")); err != nil {
		t.Fatal(err)
	}
	c := r.Originate(route("s", 1, 0, "A"))
	if c == nil || c.New == nil || !c.New.Local() || c.Old.Peer != "B" {
		t.Fatalf("change = %+v, want local to replace B", c)
	}
}

func TestHysteresis(t *testing.T) {
	// Margin: max(20% of the incumbent's slots, 5).
	r := New(Config{LocalID: "L", Keys: known(), Hysteresis: Hysteresis{Percent: 20, Slots: 5}})
	steps := []struct {
		peer     string
		slots    uint32
		wantPeer string
		changed  bool
	}{
		{"X", 100, "X", true},
		{"Y", 110, "X", false}, // within 20 of 100: keep X
		{"Y", 120, "X", false}, // exactly the margin: keep X
		{"Y", 121, "Y", true},  // beyond: Y
		{"X", 140, "Y", false}, // X now needs > 121+24
		{"X", 146, "X", true},
		{"X", 10, "Y", true}, // the incumbent collapsing loses at once
		{"X", 3, "Y", false},
		{"Y", 7, "Y", false},  // incumbent drops to 7; X at 3 is worse anyway
		{"X", 12, "Y", false}, // 12 <= 7+5
		{"X", 13, "X", true},
	}
	for i, s := range steps {
		origin := map[string]string{"X": "A", "Y": "B"}[s.peer]
		c, err := r.Learn(s.peer, route("s", s.slots, 0, s.peer, origin))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := r.Best("s")
		// A change of the same best's slots is a change too; count only
		// changes of peer.
		peerChanged := c != nil && (c.Old == nil || c.Old.Peer != c.New.Peer)
		if b.Peer != s.wantPeer || peerChanged != s.changed {
			t.Fatalf("step %d (%s=%d): best %s (%s), changed %v; want %s, %v", i, s.peer, s.slots, b.Peer, b.Reason, peerChanged, s.wantPeer, s.changed)
		}
	}
}

// badRoutes returns routes of service s from X that no RIB may take: signed
// by B for origin A, unsigned, altered after signing, of an origin without
// a known key.
func badRoutes(t *testing.T) (forged, unsigned, tampered, unknown wire.Route) {
	t.Helper()
	forged = route("s", 10, 0, "X", "A")
	if err := wire.Sign(&forged, keys["B"]); err != nil {
		t.Fatal(err)
	}
	unsigned = route("s", 10, 0, "X", "A")
	unsigned.Signature = nil
	tampered = route("s", 10, 0, "X", "A")
	tampered.Address = netip.MustParseAddr("203.0.113.9")
	unknown = route("s", 10, 0, "X", "A")
	unknown.Origin, unknown.Path = "Z", []string{"X", "Z"}
	return forged, unsigned, tampered, unknown
}

func TestLearnRefuses(t *testing.T) {
	forged, unsigned, tampered, unknown := badRoutes(t)
	tests := []struct {
		name string
		r    wire.Route
		want error
		stat func(Stats) uint64
	}{
		{"loop", route("s", 10, 0, "X", "L", "A"), ErrLoop, func(s Stats) uint64 { return s.Loops }},
		{"own origin", route("s", 10, 0, "X", "A"), nil, nil},
		{"forged origin", forged, ErrBadSignature, func(s Stats) uint64 { return s.BadSignatures }},
		{"unsigned", unsigned, ErrBadSignature, func(s Stats) uint64 { return s.BadSignatures }},
		{"hijacked address", tampered, ErrBadSignature, func(s Stats) uint64 { return s.BadSignatures }},
		{"unknown origin", unknown, ErrUnknownOrigin, func(s Stats) uint64 { return s.UnknownOrigins }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(Config{LocalID: "L", Keys: known()})
			good := route("s", 1, 0, "Y", "B")
			if _, err := r.Learn("Y", good); err != nil {
				t.Fatal(err)
			}
			_, err := r.Learn("X", tt.r)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Learn = %v, want %v", err, tt.want)
			}
			if tt.want == nil {
				return
			}
			if n := tt.stat(r.Stats()); n != 1 {
				t.Fatalf("counter = %d, want 1", n)
			}
			if b, _ := r.Best("s"); b.Peer != "Y" || r.Count("X") != 0 {
				t.Fatalf("refused route changed the RIB: best %+v", b)
			}
		})
	}
}

func TestExport(t *testing.T) {
	r := New(Config{LocalID: "L", Keys: known()})
	if _, err := r.Learn("X", route("s", 100, 5, "X", "A")); err != nil {
		t.Fatal(err)
	}
	r.Originate(route("own", 40, 0, "L"))
	tests := []struct {
		name, peer, service string
		pol                 ExportPolicy
		ok                  bool
		path                string
		slots, metric       uint32
	}{
		{"prepend and add metric", "Y", "s", ExportPolicy{Metric: 3}, true, "L,X,A", 100, 8},
		{"slot cap", "Y", "s", ExportPolicy{MaxSlots: 10}, true, "L,X,A", 10, 5},
		{"split horizon", "X", "s", ExportPolicy{}, false, "", 0, 0},
		{"path through peer", "A", "s", ExportPolicy{}, false, "", 0, 0},
		{"service not allowed", "Y", "s", ExportPolicy{Services: []string{"own"}}, false, "", 0, 0},
		{"own service", "Y", "own", ExportPolicy{Services: []string{"own"}}, true, "L", 40, 0},
		{"unknown service", "Y", "none", ExportPolicy{}, false, "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := r.Export(tt.peer, tt.pol, tt.service)
			if ok != tt.ok {
				t.Fatalf("Export ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if p := strings.Join(got.Path, ","); p != tt.path || got.Slots != tt.slots || got.Metric != tt.metric {
				t.Fatalf("got path %s slots %d metric %d", p, got.Slots, got.Metric)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("exported route invalid: %v", err)
			}
		})
	}
}

func TestStaleAndDrop(t *testing.T) {
	r := New(Config{LocalID: "L", Keys: known()})
	for _, s := range []string{"a", "b", "c"} {
		if _, err := r.Learn("X", route(s, 1, 0, "X", "A")); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.MarkStale("X"); n != 3 {
		t.Fatalf("MarkStale = %d", n)
	}
	if b, ok := r.Best("a"); !ok || !b.Stale {
		t.Fatal("stale route not kept as best")
	}
	if _, err := r.Learn("X", route("b", 2, 0, "X", "A")); err != nil {
		t.Fatal(err)
	}
	ch := r.FlushStale("X")
	if len(ch) != 2 || ch[0].Service != "a" || ch[1].Service != "c" || ch[0].New != nil {
		t.Fatalf("FlushStale = %+v", ch)
	}
	if got := r.Services(); len(got) != 1 || got[0] != "b" {
		t.Fatalf("services = %v", got)
	}
	if got := r.PeerRoutes("X"); len(got) != 1 || got[0].Route.Slots != 2 || got[0].Stale {
		t.Fatalf("PeerRoutes = %+v", got)
	}
	if got := r.LocRIB(); len(got) != 1 || got[0].Peer != "X" || got[0].Reason != "only path" {
		t.Fatalf("LocRIB = %+v", got)
	}
	if ch := r.DropPeer("X"); len(ch) != 1 || r.Count("X") != 0 {
		t.Fatalf("DropPeer = %+v", ch)
	}
}

func TestSuppressed(t *testing.T) {
	r := New(Config{LocalID: "L", Keys: known()})
	if _, err := r.Learn("X", route("s", 1, 0, "X", "A")); err != nil {
		t.Fatal(err)
	}
	if c := r.SetSuppressed("X", "s", true); c == nil || c.New != nil {
		t.Fatalf("suppress: %+v", c)
	}
	// A re-announcement keeps the damping state, which is the fsm's to lift.
	if _, err := r.Store("X", route("s", 2, 0, "X", "A"), false); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Best("s"); ok {
		t.Fatal("suppressed route became best")
	}
	if c := r.SetSuppressed("X", "s", false); c == nil || c.New == nil {
		t.Fatalf("reuse: %+v", c)
	}
	if got := r.Candidates("s"); len(got) != 1 {
		t.Fatalf("candidates = %+v", got)
	}
}

// TestVerifiedCache: a route whose signed fields and signature match a held
// one skips verification; anything else is still checked.
func TestVerifiedCache(t *testing.T) {
	r := New(Config{LocalID: "L", Keys: known()})
	genuine := route("s", 10, 0, "X", "A")
	if _, err := r.Learn("X", genuine); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*wire.Route)
		want   error
	}{
		{"same route via another peer", func(w *wire.Route) { w.Path = []string{"Z", "A"}; w.Slots = 99 }, nil},
		{"same fields, other signature", func(w *wire.Route) { w.Signature = make([]byte, wire.SignatureSize) }, ErrBadSignature},
		{"same signature, other address", func(w *wire.Route) { w.Address = netip.MustParseAddr("203.0.113.1") }, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := genuine.Clone()
			tt.mutate(&w)
			if _, err := r.Learn("Z", w); !errors.Is(err, tt.want) {
				t.Fatalf("Learn = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestCheckFrom: a neighbour's route must name that neighbour first; a
// genuinely signed route replayed with a shorter path is refused and
// counted.
func TestCheckFrom(t *testing.T) {
	r := New(Config{LocalID: "L", Keys: known()})
	if err := r.CheckFrom("X", route("s", 10, 0, "X", "A")); err != nil {
		t.Fatalf("a route through its sender refused: %v", err)
	}
	replayed := route("s", 10, 0, "A") // A's signed route, path [A], sent by X
	if err := r.CheckFrom("X", replayed); !errors.Is(err, ErrFirstHop) {
		t.Fatalf("CheckFrom(replayed) = %v, want ErrFirstHop", err)
	}
	empty := route("s", 10, 0, "X", "A")
	empty.Path = nil
	if err := r.CheckFrom("X", empty); !errors.Is(err, ErrFirstHop) {
		t.Fatalf("CheckFrom(no path) = %v, want ErrFirstHop", err)
	}
	if n := r.Stats().WrongFirstHop; n != 2 {
		t.Fatalf("WrongFirstHop = %d, want 2", n)
	}
}

// TestCheckFromVerified: a signature checked ahead of the RIB (Precheck, as
// the transport's stream readers do in parallel) gives the same outcome and
// the same counters as CheckFrom, and a verdict made against a key other
// than the one the RIB knows for the origin is ignored.
func TestCheckFromVerified(t *testing.T) {
	forged, unsigned, tampered, unknown := badRoutes(t)
	for _, r := range []wire.Route{
		route("s", 10, 0, "X", "A"), route("s", 10, 0, "X", "L", "A"), route("s", 10, 0, "Y", "A"),
		forged, unsigned, tampered, unknown,
	} {
		plain := New(Config{LocalID: "L", Keys: known()})
		pre := New(Config{LocalID: "L", Keys: known()})
		want := plain.CheckFrom("X", r)
		got := pre.CheckFromVerified("X", r, Precheck(known(), nil, r))
		if (want == nil) != (got == nil) || (want != nil && want.Error() != got.Error()) {
			t.Errorf("route %v: CheckFromVerified = %v, CheckFrom = %v", r.Path, got, want)
		}
		if plain.Stats() != pre.Stats() {
			t.Errorf("route %v: stats %+v, want %+v", r.Path, pre.Stats(), plain.Stats())
		}
	}
	// A verdict is only taken for the key the RIB knows: one that claims a
	// forged route good under another key changes nothing.
	r := New(Config{LocalID: "L", Keys: known()})
	wrong := Verdict{Key: keys["B"].Public().(ed25519.PublicKey)}
	if err := r.CheckFromVerified("X", forged, wrong); !errors.Is(err, ErrBadSignature) || r.Stats().BadSignatures != 1 {
		t.Fatalf("verdict for another key: %v, %+v", err, r.Stats())
	}
	// A verdict for the right key is taken as is: the RIB does not verify
	// again (that is the point), so only Precheck may produce one.
	good := Verdict{Key: known()["A"]}
	if err := r.CheckFromVerified("X", forged, good); err != nil {
		t.Fatalf("verdict for the origin's key not taken: %v", err)
	}
}

// TestBatchSignedRoutes: routes an origin signed as one batch are learnt
// with one root verification, re-exported with their proofs intact, and a
// copy of a held route with another proof is verified, not taken on trust.
func TestBatchSignedRoutes(t *testing.T) {
	rs := make([]wire.Route, 4)
	for i := range rs {
		rs[i] = route(fmt.Sprintf("s%d", i), 10, 0, "X", "A")
	}
	if err := wire.SignBatch(rs, keys["A"]); err != nil {
		t.Fatal(err)
	}
	v := wire.NewVerifier(16)
	r := New(Config{LocalID: "L", Keys: known(), Verifier: v})
	for _, x := range rs {
		if _, err := r.Learn("X", x); err != nil {
			t.Fatalf("learn %s: %v", x.Service, err)
		}
	}
	if s := v.Stats(); s.Verified != 1 || s.Remembered != 3 {
		t.Fatalf("verifier %+v, want 1 root verified and 3 remembered", s)
	}
	exp, ok := r.Export("Y", ExportPolicy{}, "s2")
	if !ok || !bytes.Equal(exp.BatchProof, rs[2].BatchProof) || exp.BatchIndex != 2 {
		t.Fatalf("export lost the proof: %+v %v", exp, ok)
	}
	if err := wire.Verify(exp, keys["A"].Public().(ed25519.PublicKey)); err != nil {
		t.Fatalf("exported route does not verify: %v", err)
	}
	bogus := rs[2].Clone()
	bogus.Path = []string{"Y", "A"}
	bogus.BatchProof = rs[1].BatchProof
	if _, err := r.Learn("Y", bogus); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("same route, another proof: %v, want ErrBadSignature", err)
	}
}

package fsm

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

// services returns n local services named svc-000..., in that order.
func services(n int, slots uint32) []LocalService {
	out := make([]LocalService, n)
	for i := range out {
		out[i] = svc(fmt.Sprintf("svc-%03d", i), slots)
	}
	return out
}

// announced returns the routes announced in ms, by service.
func announced(t *testing.T, ms []wire.Message) map[string]wire.Route {
	t.Helper()
	out := map[string]wire.Route{}
	for _, u := range updates(ms) {
		for _, r := range u.Announce {
			if _, dup := out[r.Service]; dup {
				t.Fatalf("%s announced twice", r.Service)
			}
			out[r.Service] = r
		}
	}
	return out
}

func pubKey(id string) ed25519.PublicKey { return testKey(id).Public().(ed25519.PublicKey) }

// sameSig reports whether a and b are the same signature bytes in memory,
// not only equal ones: ed25519 is deterministic, so equality alone would
// not show that a signature was made once.
func sameSig(a, b []byte) bool { return len(a) > 0 && len(a) == len(b) && &a[0] == &b[0] }

// TestAnnounceAllSignsBatches: 300 services announced together reach a
// peer with the batch capability in batches of 2^wire.DefaultBatchDepth
// routes and a smaller last one (256 + 44 at depth 8), in the order given, each route verifying against A's key; a change of slots
// alone keeps each route's epoch, signature and proof; a change of address
// re-signs just the routes that changed, as a batch of their own, at the
// same epoch.
func TestAnnounceAllSignsBatches(t *testing.T) {
	p := newPair(t, nil)
	p.take("B")
	svcs := services(300, 10)
	must(t, p.a.AnnounceAll(p.now, svcs))
	p.pump()
	first := announced(t, p.take("B"))
	if len(first) != len(svcs) {
		t.Fatalf("B got %d routes, want %d", len(first), len(svcs))
	}
	// Batches of 2^DefaultBatchDepth routes, in order; the last one
	// smaller, with a shallower tree.
	const size = 1 << wire.DefaultBatchDepth
	type batch struct{ n, depth int }
	var want []batch
	for lo := 0; lo < len(svcs); lo += size {
		n := min(size, len(svcs)-lo)
		want = append(want, batch{n, bits.Len(uint(n - 1))})
	}
	if len(want) < 2 || want[len(want)-1].n == size {
		t.Fatalf("300 services make batches %+v: the test wants a partial one", want)
	}
	bySig := map[string]*batch{}
	for i, s := range svcs {
		r := first[s.Name]
		must(t, wire.Verify(r, pubKey("A")))
		if want := uint32(i % size); r.BatchIndex != want {
			t.Fatalf("%s: index %d, want %d (the order given)", s.Name, r.BatchIndex, want)
		}
		b := bySig[string(r.Signature)]
		if b == nil {
			b = &batch{depth: r.BatchDepth()}
			bySig[string(r.Signature)] = b
		}
		if r.BatchDepth() != b.depth {
			t.Fatalf("%s: depth %d in a batch of depth %d", s.Name, r.BatchDepth(), b.depth)
		}
		b.n++
	}
	var got []batch
	for _, b := range bySig {
		got = append(got, *b)
	}
	slices.SortFunc(got, func(a, b batch) int { return b.n - a.n })
	if !slices.Equal(got, want) {
		t.Fatalf("batches %+v, want %+v", got, want)
	}
	if n := len(p.b.RIB().LocRIB()); n != len(svcs) {
		t.Fatalf("B selected %d routes, want %d", n, len(svcs))
	}
	if st := p.b.RIB().Stats(); st != (rib.Stats{}) {
		t.Fatalf("B refused routes: %+v", st)
	}

	steps := []struct {
		name string
		// change returns the services to announce; changed are the
		// indexes whose signed fields it changes.
		change  func([]LocalService) []LocalService
		changed []int
		slots   uint32
	}{
		{
			name: "slots only",
			change: func(s []LocalService) []LocalService {
				for i := range s {
					s[i].Slots = 100 // a big move: applied at once
				}
				return s
			},
			slots: 100,
		},
		{
			name: "address of three",
			change: func(s []LocalService) []LocalService {
				for _, i := range []int{3, 150, 299} {
					s[i].Address = mustAddr("198.51.100.99")
				}
				return s
			},
			changed: []int{3, 150, 299},
			slots:   100,
		},
	}
	prev := first
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			svcs = st.change(slices.Clone(svcs))
			p.advance(10 * time.Second) // the MRAI
			p.take("B")
			must(t, p.a.AnnounceAll(p.now, svcs))
			p.advance(10 * time.Second)
			got := announced(t, p.take("B"))
			wantSent := len(svcs)
			if st.changed != nil {
				wantSent = len(st.changed)
			}
			if len(got) != wantSent {
				t.Fatalf("B got %d routes, want %d", len(got), wantSent)
			}
			var resigned [][]byte
			for i, s := range svcs {
				r, ok := got[s.Name]
				if !ok {
					continue
				}
				old := prev[s.Name]
				must(t, wire.Verify(r, pubKey("A")))
				if r.Slots != st.slots || r.Epoch != old.Epoch {
					t.Fatalf("%s: slots %d epoch %d, want %d and the old %d", s.Name, r.Slots, r.Epoch, st.slots, old.Epoch)
				}
				if !slices.Contains(st.changed, i) {
					if !slices.Equal(r.Signature, old.Signature) || r.BatchIndex != old.BatchIndex || !slices.Equal(r.BatchProof, old.BatchProof) {
						t.Fatalf("%s: signature or proof changed with the slots", s.Name)
					}
					continue
				}
				if slices.Equal(r.Signature, old.Signature) || r.Address != s.Address {
					t.Fatalf("%s: not re-signed with its new address: %+v", s.Name, r)
				}
				resigned = append(resigned, r.Signature)
				prev[s.Name] = r
			}
			if len(resigned) > 0 && slices.ContainsFunc(resigned, func(sig []byte) bool { return !slices.Equal(sig, resigned[0]) }) {
				t.Fatal("the changed routes were not signed as one batch")
			}
		})
	}
}

// TestAnnounceAllInvalidChangesNothing: one invalid or repeated service
// fails the whole list, naming it, before anything is originated, changed
// or sent.
func TestAnnounceAllInvalidChangesNothing(t *testing.T) {
	tests := []struct {
		name string
		bad  func(s []LocalService) string // spoils s, returns the name to report
		want error
	}{
		{"empty name", func(s []LocalService) string { s[150].Name = ""; return "" }, wire.ErrEmptyService},
		{"zero port", func(s []LocalService) string { s[299].Port = 0; return s[299].Name }, wire.ErrInvalid},
		{"bad proto", func(s []LocalService) string { s[0].Proto = 99; return s[0].Name }, wire.ErrInvalid},
		{"no ingress", func(s []LocalService) string { s[7].Ingress = netip.Addr{}; return s[7].Name }, wire.ErrBadAddress},
		{"listed twice", func(s []LocalService) string { s[200].Name = s[10].Name; return s[10].Name }, ErrDuplicateService},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPair(t, nil)
			// Two services already originated, which the list would
			// change.
			must(t, p.a.AnnounceAll(p.now, services(2, 10)))
			p.pump()
			before := map[string]wire.Route{}
			for _, name := range []string{"svc-000", "svc-001"} {
				r, ok := p.a.RIB().Local(name)
				if !ok {
					t.Fatalf("%s not originated", name)
				}
				before[name] = r.Clone()
			}
			p.advance(10 * time.Second)
			p.take("B")

			svcs := services(300, 10)
			svcs[0].Address, svcs[1].Slots = mustAddr("198.51.100.2"), 100
			name := tt.bad(svcs)
			err := p.a.AnnounceAll(p.now, svcs)
			if !errors.Is(err, tt.want) {
				t.Fatalf("AnnounceAll = %v, want %v", err, tt.want)
			}
			if q := strconv.Quote(name); !strings.Contains(err.Error(), q) {
				t.Fatalf("error %q does not name %s", err, q)
			}
			for name, r := range before {
				if now, _ := p.a.RIB().Local(name); !reflect.DeepEqual(now, r) {
					t.Fatalf("%s changed: %+v, was %+v", name, now, r)
				}
			}
			if n := len(p.a.RIB().LocRIB()); n != 2 {
				t.Fatalf("A holds %d routes, want the 2 of before", n)
			}
			p.advance(10 * time.Second)
			if got := announced(t, p.take("B")); len(got) != 0 {
				t.Fatalf("B got %d routes", len(got))
			}
		})
	}
}

// originHub is speaker A with sessions to B, which announced the batch
// capability in its OPEN, and to C and D, which did not.
func originHub(t *testing.T, disableBatch bool) *Speaker {
	t.Helper()
	a, err := New(Config{
		LocalID: "A", Key: testKey("A"), Keys: testKeys("A", "B", "C", "D"),
		Peers:    []PeerConfig{{ID: "B"}, {ID: "C"}, {ID: "D"}},
		HoldTime: 9 * time.Second, MRAI: -1, DisableBatchSignatures: disableBatch,
	})
	must(t, err)
	for _, id := range []string{"B", "C", "D"} {
		must(t, a.Connected(t0, id))
		must(t, a.Receive(t0, id, wire.Open{
			Version: wire.Version, DomainID: id, HoldTime: 9 * time.Second,
			Capabilities: wire.Capabilities{BatchSignatures: id == "B"},
		}))
		must(t, a.Receive(t0, id, wire.Keepalive{}))
		if a.State(id) != Established {
			t.Fatalf("%s: %v", id, a.State(id))
		}
	}
	a.Ready()
	return a
}

// byPeer returns the routes out announces, by peer and service.
func byPeer(t *testing.T, out Output) map[string]map[string]wire.Route {
	t.Helper()
	ms := map[string][]wire.Message{}
	for _, m := range out.Messages {
		ms[m.Peer] = append(ms[m.Peer], m.Msg)
	}
	got := map[string]map[string]wire.Route{}
	for peer, m := range ms {
		got[peer] = announced(t, m)
	}
	return got
}

// TestSignedAloneForPeersWithoutCapability: peers that did not announce
// the batch capability get A's batch-signed routes signed alone, which
// verify, with the export's path, slots and metric; each route is signed
// alone once, for both such peers and across a change of slots, and again
// when its signed fields change. A speaker with DisableBatchSignatures
// signs alone from the start.
func TestSignedAloneForPeersWithoutCapability(t *testing.T) {
	a := originHub(t, false)
	svcs := services(300, 10)
	must(t, a.AnnounceAll(t0, svcs))
	got := byPeer(t, a.Ready())
	for _, s := range svcs {
		b, c, d := got["B"][s.Name], got["C"][s.Name], got["D"][s.Name]
		if b.BatchDepth() == 0 {
			t.Fatalf("%s: B got it signed alone", s.Name)
		}
		for peer, r := range map[string]wire.Route{"C": c, "D": d} {
			if r.BatchDepth() != 0 || r.BatchIndex != 0 {
				t.Fatalf("%s to %s: depth %d index %d, want signed alone", s.Name, peer, r.BatchDepth(), r.BatchIndex)
			}
			must(t, wire.Verify(r, pubKey("A")))
			if !slices.Equal(r.Path, b.Path) || r.Slots != b.Slots || r.Metric != b.Metric || r.Epoch != b.Epoch {
				t.Fatalf("%s to %s: %+v, B's %+v", s.Name, peer, r, b)
			}
		}
		if !sameSig(c.Signature, d.Signature) {
			t.Fatalf("%s: signed alone twice, for C and for D", s.Name)
		}
		if l, _ := a.RIB().Local(s.Name); l.BatchDepth() == 0 {
			t.Fatalf("%s: the local route lost its batch signature", s.Name)
		}
	}

	// Slots alone: the same signature, made alone once.
	for i := range svcs {
		svcs[i].Slots = 100
	}
	svcs[42].Port, svcs[43].Port = 8080, 8080 // re-signed, as a batch of two
	must(t, a.AnnounceAll(t0.Add(time.Second), svcs))
	again := byPeer(t, a.Ready())
	for i, s := range svcs {
		r, old := again["C"][s.Name], got["C"][s.Name]
		if r.Slots != 100 {
			t.Fatalf("%s: slots %d", s.Name, r.Slots)
		}
		must(t, wire.Verify(r, pubKey("A")))
		if reused, resigned := sameSig(r.Signature, old.Signature), i == 42 || i == 43; reused == resigned {
			t.Fatalf("%s: signature reused %v, re-signed route %v", s.Name, reused, resigned)
		}
		if !sameSig(r.Signature, again["D"][s.Name].Signature) {
			t.Fatalf("%s: signed alone twice, for C and for D", s.Name)
		}
	}

	t.Run("batch signatures disabled", func(t *testing.T) {
		a := originHub(t, true)
		must(t, a.AnnounceAll(t0, svcs))
		got := byPeer(t, a.Ready())
		for _, s := range svcs {
			for _, peer := range []string{"B", "C", "D"} {
				r := got[peer][s.Name]
				if r.BatchDepth() != 0 {
					t.Fatalf("%s to %s: batch-signed", s.Name, peer)
				}
				must(t, wire.Verify(r, pubKey("A")))
			}
		}
	})
}

// TestSignedAloneOnlyOurOwn: another origin's batch route, or ours at an
// epoch we no longer originate, has no form signed alone.
func TestSignedAloneOnlyOurOwn(t *testing.T) {
	a := originHub(t, false)
	must(t, a.AnnounceAll(t0, services(2, 10)))
	a.Ready()
	ours, _ := a.RIB().Local("svc-000")
	other := ours.Clone()
	other.Origin, other.Path = "B", []string{"B"}
	stale := ours.Clone()
	stale.Epoch--
	for name, r := range map[string]wire.Route{"another origin": other, "an old epoch": stale} {
		if _, ok := a.signedAlone(r); ok {
			t.Fatalf("%s: signed alone", name)
		}
	}
	if r, ok := a.signedAlone(ours); !ok || wire.Verify(r, pubKey("A")) != nil || r.BatchDepth() != 0 {
		t.Fatalf("our route: %+v %v", r, ok)
	}
}

// TestSignedAloneAfterEpochBump: when our own retraction of a newer epoch
// comes back (we restarted with a clock behind), the local route takes a
// newer epoch and is signed again; peers without the batch capability get
// it at that epoch, verifying, and the old epoch has no form signed alone.
func TestSignedAloneAfterEpochBump(t *testing.T) {
	a := originHub(t, false)
	must(t, a.AnnounceAll(t0, services(2, 10)))
	before := byPeer(t, a.Ready())["C"]["svc-000"]
	must(t, wire.Verify(before, pubKey("A")))
	old := wire.Retraction{Service: "svc-000", Origin: "A", Epoch: before.Epoch + 100}
	must(t, wire.SignRetraction(&old, testKey("A")))
	must(t, a.Receive(t0, "B", wire.Update{Retract: []wire.Retraction{old}}))
	after, ok := byPeer(t, a.Ready())["C"]["svc-000"]
	if !ok || after.Epoch <= old.Epoch {
		t.Fatalf("C got %+v after our old retraction of epoch %d", after, old.Epoch)
	}
	must(t, wire.Verify(after, pubKey("A")))
	if _, ok := a.signedAlone(before); ok {
		t.Fatal("the retracted epoch signed alone")
	}
}

package wire

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
)

func batchRoutes(t *testing.T, n int, key ed25519.PrivateKey) []Route {
	t.Helper()
	rs := make([]Route, n)
	for i := range rs {
		rs[i] = testRoute(fmt.Sprintf("svc-%04d", i), "origin", key)
	}
	if err := SignBatch(rs, key); err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestSignBatchVerifies(t *testing.T) {
	key := testKey(1)
	pub := key.Public().(ed25519.PublicKey)
	for _, n := range []int{1, 2, 3, 5, 127, 128, 129, 255, 256, 257, 600} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			rs := batchRoutes(t, n, key)
			v := NewVerifier(16)
			for i, r := range rs {
				want := min(DefaultBatchDepth, depthFor(batchLen(n, i)))
				if r.BatchDepth() != want {
					t.Fatalf("route %d: depth %d, want %d", i, r.BatchDepth(), want)
				}
				if err := r.Validate(); err != nil {
					t.Fatalf("route %d: %v", i, err)
				}
				if err := Verify(r, pub); err != nil {
					t.Fatalf("route %d: Verify: %v", i, err)
				}
				if err := v.Verify(r, pub); err != nil {
					t.Fatalf("route %d: Verifier: %v", i, err)
				}
			}
			// One ed25519 check per batch of two or more routes.
			const size = 1 << DefaultBatchDepth
			batches := (n + size - 1) / size
			if n%size == 1 {
				batches--
			}
			if got := v.Stats().Verified; got != uint64(batches) {
				t.Fatalf("verified %d roots, want %d", got, batches)
			}
		})
	}
}

// batchLen is the size of the batch route i of n falls in.
func batchLen(n, i int) int {
	const size = 1 << DefaultBatchDepth
	return min(size, n-i/size*size)
}

func depthFor(n int) int {
	d := 0
	for 1<<d < n {
		d++
	}
	return d
}

func TestBatchTampering(t *testing.T) {
	key, other := testKey(1), testKey(2)
	pub := key.Public().(ed25519.PublicKey)
	rs := batchRoutes(t, 5, key)
	foreign := batchRoutes(t, 5, other)
	tests := []struct {
		name   string
		mutate func(*Route)
		ok     bool
	}{
		{"as signed", func(*Route) {}, true},
		{"path prepended", func(r *Route) { r.Path = append([]string{"x"}, r.Path...) }, true},
		{"slots capped", func(r *Route) { r.Slots = 3 }, true},
		{"service changed", func(r *Route) { r.Service = "svc-0001" }, false},
		{"address hijacked", func(r *Route) { r.Address = netip.MustParseAddr("203.0.113.66") }, false},
		{"port changed", func(r *Route) { r.Port++ }, false},
		{"epoch changed", func(r *Route) { r.Epoch++ }, false},
		{"ingress hijacked", func(r *Route) { r.Ingress = netip.MustParseAddr("2001:db8::666") }, false},
		{"proof bit flipped", func(r *Route) { r.BatchProof = flip(r.BatchProof, 40) }, false},
		{"index of a sibling", func(r *Route) { r.BatchIndex ^= 1 }, false},
		{"proof of a sibling", func(r *Route) { r.BatchProof = rs[3].BatchProof }, false},
		{"proof shortened", func(r *Route) { r.BatchProof = r.BatchProof[HashSize:]; r.BatchIndex >>= 1 }, false},
		{"proof dropped: the root's signature alone", func(r *Route) { r.BatchProof, r.BatchIndex = nil, 0 }, false},
		{"another origin's batch signature", func(r *Route) { r.Signature = foreign[2].Signature }, false},
		{"signature bit flipped", func(r *Route) { r.Signature = flip(r.Signature, 7) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each case on a fresh verifier and on one that already
			// verified the genuine batch: remembering a root must not
			// let anything else through.
			warm := NewVerifier(16)
			for _, r := range rs {
				if err := warm.Verify(r, pub); err != nil {
					t.Fatal(err)
				}
			}
			// Runs that just verified routes around it: its sibling
			// last, or a route further off last.
			runs := map[string]*Run{}
			for name, before := range map[string][]Route{
				"Run after its sibling":   {rs[0], rs[1], rs[4], rs[3]},
				"Run after a cousin":      {rs[3], rs[0]},
				"Run after another batch": {foreign[2]},
			} {
				runs[name] = warm.Run()
				for _, x := range before {
					pub := pub
					if x.Origin == "origin" && &x.Signature[0] == &foreign[2].Signature[0] {
						pub = other.Public().(ed25519.PublicKey)
					}
					if err := runs[name].Verify(x, pub); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
				}
			}
			r := rs[2].Clone()
			tt.mutate(&r)
			verifiers := map[string]func(Route, ed25519.PublicKey) error{
				"Verify": Verify, "fresh Verifier": NewVerifier(16).Verify, "warm Verifier": warm.Verify,
				"Run without a Verifier": (*Verifier)(nil).Run().Verify,
			}
			for name, run := range runs {
				verifiers[name] = run.Verify
			}
			for name, verify := range verifiers {
				err := verify(r, pub)
				if tt.ok && err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !tt.ok && !errors.Is(err, ErrBadSignature) {
					t.Fatalf("%s = %v, want ErrBadSignature", name, err)
				}
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	b = slices.Clone(b)
	b[i] ^= 0x10
	return b
}

// A forged root is remembered as forged: repeating it costs no ed25519
// check, and the verdict stays a refusal.
func TestVerifierRemembersFailures(t *testing.T) {
	key := testKey(1)
	pub := key.Public().(ed25519.PublicKey)
	rs := batchRoutes(t, 4, key)
	v := NewVerifier(16)
	for range 3 {
		r := rs[1].Clone()
		r.Signature = flip(r.Signature, 0)
		if err := v.Verify(r, pub); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("forged: %v", err)
		}
	}
	if s := v.Stats(); s.Verified != 1 || s.Remembered != 2 {
		t.Fatalf("stats %+v, want 1 verified, 2 remembered", s)
	}
}

func TestVerifierForgetsWhenFull(t *testing.T) {
	pub := testKey(1).Public().(ed25519.PublicKey)
	v := NewVerifier(2)
	var batches [][]Route
	for i := range 3 {
		batches = append(batches, batchRoutes(t, 2, testKey(1)))
		batches[i][0].Slots = uint32(i)
		for j := range batches[i] {
			batches[i][j].Epoch += uint64(i) // three different roots
		}
		if err := SignBatch(batches[i], testKey(1)); err != nil {
			t.Fatal(err)
		}
		if err := v.Verify(batches[i][0], pub); err != nil {
			t.Fatal(err)
		}
	}
	v.mu.Lock()
	n := len(v.roots)
	v.mu.Unlock()
	if n > 2 {
		t.Fatalf("remembers %d roots, max 2", n)
	}
	if err := v.Verify(batches[0][1], pub); err != nil {
		t.Fatalf("a forgotten root verifies again: %v", err)
	}
}

func TestValidateBatchFields(t *testing.T) {
	key := testKey(1)
	rs := batchRoutes(t, 4, key)
	tests := []struct {
		name   string
		mutate func(*Route)
	}{
		{"proof not a multiple of a hash", func(r *Route) { r.BatchProof = r.BatchProof[:HashSize+1] }},
		{"proof too deep", func(r *Route) { r.BatchProof = make([]byte, (MaxBatchDepth+1)*HashSize) }},
		{"index beyond the batch", func(r *Route) { r.BatchIndex = 4 }},
		{"index without a proof", func(r *Route) { r.BatchProof, r.BatchIndex = nil, 1 }},
		{"proof without a signature", func(r *Route) { r.Signature = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rs[1].Clone()
			tt.mutate(&r)
			if err := r.Validate(); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want ErrInvalid", err)
			}
			if _, err := Marshal(Update{Announce: []Route{r}}); err == nil {
				t.Fatal("Marshal accepted it")
			}
		})
	}
}

func TestBatchRoundTrip(t *testing.T) {
	key := testKey(1)
	rs := batchRoutes(t, 7, key)
	b, err := Marshal(Update{Announce: rs})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	got := m.(Update).Announce
	pub := key.Public().(ed25519.PublicKey)
	for i := range rs {
		if got[i].BatchIndex != rs[i].BatchIndex || !slices.Equal(got[i].BatchProof, rs[i].BatchProof) {
			t.Fatalf("route %d: batch fields changed", i)
		}
		if err := Verify(got[i], pub); err != nil {
			t.Fatalf("route %d after decoding: %v", i, err)
		}
	}
}

package wire

import (
	"crypto/ed25519"
	"errors"
	"net/netip"
	"testing"
)

func TestVerify(t *testing.T) {
	key, other := testKey(1), testKey(2)
	pub := key.Public().(ed25519.PublicKey)
	tests := []struct {
		name   string
		mutate func(*Route)
		pub    ed25519.PublicKey
		ok     bool
	}{
		{"as signed", func(*Route) {}, pub, true},
		// Hop-by-hop fields are not signed: transit domains change them.
		{"path prepended", func(r *Route) { r.Path = append([]string{"x"}, r.Path...) }, pub, true},
		{"slots capped", func(r *Route) { r.Slots = 3 }, pub, true},
		{"metric grown", func(r *Route) { r.Metric += 10 }, pub, true},
		{"service changed", func(r *Route) { r.Service = "other" }, pub, false},
		{"address hijacked", func(r *Route) { r.Address = netip.MustParseAddr("203.0.113.66") }, pub, false},
		{"port changed", func(r *Route) { r.Port = 8443 }, pub, false},
		{"proto changed", func(r *Route) { r.Proto = UDP }, pub, false},
		{"epoch changed", func(r *Route) { r.Epoch++ }, pub, false},
		{"ingress hijacked", func(r *Route) { r.Ingress = netip.MustParseAddr("2001:db8::666") }, pub, false},
		{"origin changed", func(r *Route) { r.Origin = "evil"; r.Path = []string{"evil"} }, pub, false},
		{"unsigned", func(r *Route) { r.Signature = nil }, pub, false},
		{"wrong key", func(*Route) {}, other.Public().(ed25519.PublicKey), false},
		{"no key", func(*Route) {}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testRoute("video", "origin", key)
			tt.mutate(&r)
			err := Verify(r, tt.pub)
			if tt.ok && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify = %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestVerifyRetraction(t *testing.T) {
	key, other := testKey(1), testKey(2)
	pub := key.Public().(ed25519.PublicKey)
	tests := []struct {
		name   string
		mutate func(*Retraction)
		pub    ed25519.PublicKey
		ok     bool
	}{
		{"as signed", func(*Retraction) {}, pub, true},
		{"service changed", func(r *Retraction) { r.Service = "other" }, pub, false},
		{"origin changed", func(r *Retraction) { r.Origin = "evil" }, pub, false},
		{"epoch raised", func(r *Retraction) { r.Epoch++ }, pub, false},
		{"unsigned", func(r *Retraction) { r.Signature = nil }, pub, false},
		{"wrong key", func(*Retraction) {}, other.Public().(ed25519.PublicKey), false},
		{"no key", func(*Retraction) {}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testRetraction("video", "origin", 1000, key)
			tt.mutate(&r)
			err := VerifyRetraction(r, tt.pub)
			if tt.ok && err != nil {
				t.Fatalf("VerifyRetraction: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("VerifyRetraction = %v, want ErrBadSignature", err)
			}
		})
	}
}

// TestSigningContextsDiffer: a route signature never verifies as a
// retraction and the other way round, even over the same strings.
func TestSigningContextsDiffer(t *testing.T) {
	key := testKey(1)
	pub := key.Public().(ed25519.PublicKey)
	r := testRoute("video", "origin", key)
	rt := Retraction{Service: r.Service, Origin: r.Origin, Epoch: r.Epoch, Signature: r.Signature}
	if err := VerifyRetraction(rt, pub); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("route signature accepted as a retraction: %v", err)
	}
	rt = testRetraction(r.Service, r.Origin, r.Epoch, key)
	r.Signature = rt.Signature
	if err := Verify(r, pub); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("retraction signature accepted for a route: %v", err)
	}
}

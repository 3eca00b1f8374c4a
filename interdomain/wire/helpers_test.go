package wire

import (
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"
)

// testRoute returns a valid signed route for tests.
func testRoute(service, origin string, key ed25519.PrivateKey) Route {
	r := Route{
		Service: service,
		Address: netip.MustParseAddr("198.51.100.10"),
		Port:    443,
		Proto:   TCP,
		Origin:  origin,
		Path:    []string{"transit", origin},
		Slots:   120,
		Metric:  17,
		Ingress: netip.MustParseAddr("2001:db8::1"),
		Epoch:   1_767_225_600_000_000_000,
	}
	if err := Sign(&r, key); err != nil {
		panic(err)
	}
	return r
}

// testRetraction returns a retraction signed with key.
func testRetraction(service, origin string, epoch uint64, key ed25519.PrivateKey) Retraction {
	r := Retraction{Service: service, Origin: origin, Epoch: epoch}
	if err := SignRetraction(&r, key); err != nil {
		panic(err)
	}
	return r
}

func testKey(seed byte) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed
	}
	return ed25519.NewKeyFromSeed(s)
}

// randMessage builds a random valid message; nil slices stay nil so that
// decoded messages compare equal with reflect.DeepEqual.
func randMessage(rng *rand.Rand) Message {
	switch rng.IntN(6) {
	case 0:
		return Open{
			Version:  rng.Uint32N(4),
			DomainID: randID(rng),
			HoldTime: time.Duration(rng.IntN(1e6)) * time.Millisecond,
			Capabilities: Capabilities{
				RouteRefresh:    rng.IntN(2) == 0,
				GracefulRestart: rng.IntN(2) == 0,
				RestartTime:     time.Duration(rng.IntN(1e6)) * time.Millisecond,
				BatchSignatures: rng.IntN(2) == 0,
			},
		}
	case 1:
		var u Update
		for range rng.IntN(4) {
			u.Announce = append(u.Announce, randRoute(rng))
		}
		for range rng.IntN(4) {
			u.Withdraw = append(u.Withdraw, randID(rng))
		}
		for range rng.IntN(3) {
			r := Retraction{Service: randID(rng), Origin: randID(rng), Epoch: 1 + rng.Uint64N(1<<62), Signature: make([]byte, SignatureSize)}
			for i := range r.Signature {
				r.Signature[i] = byte(rng.IntN(256))
			}
			u.Retract = append(u.Retract, r)
		}
		return u
	case 2:
		return Keepalive{}
	case 3:
		return Notification{Code: NotifyCode(rng.IntN(256)), Subcode: uint8(rng.IntN(256)), Text: randID(rng)[:rng.IntN(3)]}
	case 4:
		return RouteRefresh{}
	}
	return EndOfRIB{}
}

func randRoute(rng *rand.Rand) Route {
	r := Route{
		Service: randID(rng),
		Address: randAddr(rng),
		Port:    uint16(1 + rng.IntN(65535)),
		Proto:   []Proto{TCP, UDP, SCTP}[rng.IntN(3)],
		Origin:  randID(rng),
		Slots:   rng.Uint32(),
		Metric:  rng.Uint32(),
		Ingress: randAddr(rng),
	}
	if rng.IntN(2) == 0 {
		r.Epoch = rng.Uint64()
	}
	for range rng.IntN(5) {
		r.Path = append(r.Path, randID(rng))
	}
	r.Path = append(r.Path, r.Origin)
	if rng.IntN(2) == 0 {
		r.Signature = make([]byte, SignatureSize)
		for i := range r.Signature {
			r.Signature[i] = byte(rng.IntN(256))
		}
		if depth := rng.IntN(MaxBatchDepth + 1); rng.IntN(2) == 0 && depth > 0 {
			r.BatchIndex = rng.Uint32N(1 << depth)
			r.BatchProof = make([]byte, depth*HashSize)
			for i := range r.BatchProof {
				r.BatchProof[i] = byte(rng.IntN(256))
			}
		}
	}
	return r
}

func randID(rng *rand.Rand) string {
	return fmt.Sprintf("d%d.é", rng.IntN(1000))
}

func randAddr(rng *rand.Rand) netip.Addr {
	if rng.IntN(2) == 0 {
		return netip.AddrFrom4([4]byte{10, byte(rng.IntN(256)), byte(rng.IntN(256)), byte(1 + rng.IntN(254))})
	}
	var a [16]byte
	a[0], a[1] = 0x20, 0x01
	for i := 2; i < 16; i++ {
		a[i] = byte(rng.IntN(256))
	}
	return netip.AddrFrom16(a)
}

package rib

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

// benchRoutes returns n signed routes from origin A over a 3-domain path.
// Signing is done once, outside the timed loop.
func benchRoutes(n int) []wire.Route {
	rs := make([]wire.Route, n)
	for i := range rs {
		rs[i] = route(fmt.Sprintf("svc-%07d", i), uint32(i%500), uint32(i%97), "X", "Y", "A")
	}
	return rs
}

// BenchmarkBestPath measures best-path decisions: each op learns a route
// for a service that already has candidates from two other peers and
// re-runs the decision. Signature checks are excluded (Store skips them;
// see BenchmarkVerify for their cost).
func BenchmarkBestPath(b *testing.B) {
	const services = 10000
	rs := benchRoutes(services)
	t := New(Config{LocalID: "L", Keys: known(), Hysteresis: Hysteresis{Percent: 20}})
	for _, r := range rs {
		for _, p := range []string{"P1", "P2"} {
			if _, err := t.Store(p, r, false); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		r := rs[i%services]
		r.Slots = uint32(i % 1000)
		if _, err := t.Store("P3", r, false); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkVerify is the ed25519 check every learnt route pays.
func BenchmarkVerify(b *testing.B) {
	r := route("svc", 1, 1, "X", "A")
	pub := known()["A"]
	for b.Loop() {
		if err := wire.Verify(r, pub); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoryPerRoute reports the heap a RIB keeps per Adj-RIB-In
// entry (with its share of Loc-RIB) for 1,000,000 services learnt from one
// peer: everything the table holds, its service names included, measured
// from before the routes existed to after the caller dropped them. Signed
// alone, each route holds its 64-byte signature; batch-signed, a proof of
// wire.DefaultBatchDepth hashes and a signature shared by its batch. The bytes are
// random: Store does not check signatures, and their size is what counts.
func BenchmarkMemoryPerRoute(b *testing.B) {
	const n = 1_000_000
	for _, batch := range []bool{false, true} {
		name := "signed-alone"
		if batch {
			name = "batch-signed"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				t := New(Config{LocalID: "L", Keys: known()})
				rs := memoryRoutes(n, batch)
				for _, r := range rs {
					if _, err := t.Store("P1", r, false); err != nil {
						b.Fatal(err)
					}
				}
				rs = nil
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/route")
				runtime.KeepAlive(t)
			}
		})
	}
}

// memoryRoutes returns n routes as a decoder would: each with its own
// service name and signature bytes, sharing one path.
func memoryRoutes(n int, batch bool) []wire.Route {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(size int) []byte {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	path := []string{"X", "Y", "A"}
	rs := make([]wire.Route, n)
	var sig []byte
	for i := range rs {
		r := wire.Route{
			Service: fmt.Sprintf("svc-%07d.example", i), Address: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}),
			Port: 443, Proto: wire.TCP, Origin: "A", Path: path, Slots: uint32(i % 500), Metric: 7,
			Ingress: netip.MustParseAddr("192.0.2.1"), Epoch: 1 << 60,
		}
		switch {
		case !batch:
			r.Signature = random(wire.SignatureSize)
		default:
			const size = 1 << wire.DefaultBatchDepth
			if i%size == 0 {
				sig = random(wire.SignatureSize)
			}
			r.Signature, r.BatchIndex, r.BatchProof = sig, uint32(i%size), random(wire.DefaultBatchDepth*wire.HashSize)
		}
		rs[i] = r
	}
	return rs
}

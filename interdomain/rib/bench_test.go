package rib

import (
	"fmt"
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

// BenchmarkMemoryPerRoute reports the heap used per Adj-RIB-In entry (with
// its share of Loc-RIB) for 100,000 services learnt from one peer.
func BenchmarkMemoryPerRoute(b *testing.B) {
	const n = 100000
	for b.Loop() {
		rs := benchRoutes(n)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		t := New(Config{LocalID: "L", Keys: known()})
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
}

package fsm

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

// BenchmarkLoopOneHop100k measures what the goroutine owning a Speaker
// spends on transport.BenchmarkOneHop100k's table, without the network and
// without signature checks: domain B receives 100,000 routes from neighbour
// A in UPDATEs of up to 1 MiB, each with its routes' signature verdicts
// already made (as the transport's stream readers make them, off the loop;
// rib.Precheck), and re-exports them to C; then A withdraws them all. Each
// Receive is followed by Ready, as the transport's loop does. MRAI is off.
// The routes carry a 64-byte signature the verdicts vouch for: this is the
// cost of learning, selecting and exporting, not of ed25519. The network
// benchmark's time is this plus decoding, encoding, the streams and, above
// all, the signature checks.
func BenchmarkLoopOneHop100k(b *testing.B) {
	const n = 100_000
	sig := make([]byte, wire.SignatureSize)
	routes := make([]wire.Route, n)
	names := make([]string, n)
	for i := range routes {
		routes[i] = wire.Route{
			Service: fmt.Sprintf("svc-%06d.example", i),
			Address: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), Port: 443, Proto: wire.TCP,
			Origin: "A", Path: []string{"A"}, Slots: 100, Ingress: netip.MustParseAddr("192.0.2.1"), Signature: sig,
		}
		names[i] = routes[i].Service
	}
	announce := wire.SplitUpdate(wire.Update{Announce: routes}, 0)
	withdraw := wire.SplitUpdate(wire.Update{Withdraw: names}, 0)
	keyA := testKeys("A")["A"]
	verdicts := make([][]rib.Verdict, len(announce))
	for i, u := range announce {
		verdicts[i] = make([]rib.Verdict, len(u.Announce))
		for j := range verdicts[i] {
			verdicts[i][j] = rib.Verdict{Key: keyA}
		}
	}
	var sent int
	var ann, wd time.Duration
	for b.Loop() {
		b.StopTimer()
		s := loopSpeaker(b)
		b.StartTimer()
		start := time.Now()
		for i, u := range announce {
			must(b, s.ReceiveVerified(t0, "A", u, verdicts[i]))
			sent += countAnnounced(s.Ready(), "C")
		}
		mid := time.Now()
		for _, u := range withdraw {
			must(b, s.Receive(t0, "A", u))
			s.Ready()
		}
		ann, wd = ann+mid.Sub(start), wd+time.Since(mid)
	}
	if sent != n*b.N {
		b.Fatalf("B announced %d routes to C, want %d", sent, n*b.N)
	}
	b.ReportMetric(float64(ann.Nanoseconds())/float64(b.N)/n, "announce-ns/route")
	b.ReportMetric(float64(wd.Nanoseconds())/float64(b.N)/n, "withdraw-ns/route")
}

// loopSpeaker returns domain B with established sessions to A and C.
func loopSpeaker(b *testing.B) *Speaker {
	s, err := New(Config{
		LocalID: "B", Key: testKey("B"), Keys: testKeys("A"), MRAI: -1,
		Peers: []PeerConfig{{ID: "A"}, {ID: "C"}},
	})
	must(b, err)
	for _, p := range []string{"A", "C"} {
		must(b, s.Connected(t0, p))
		must(b, s.Receive(t0, p, wire.Open{Version: wire.Version, DomainID: p, HoldTime: 90 * time.Second}))
		must(b, s.Receive(t0, p, wire.Keepalive{}))
		if s.State(p) != Established {
			b.Fatalf("session with %s: %v", p, s.State(p))
		}
	}
	s.Ready()
	return s
}

func countAnnounced(o Output, peer string) int {
	n := 0
	for _, m := range o.Messages {
		if u, ok := m.Msg.(wire.Update); ok && m.Peer == peer {
			n += len(u.Announce)
		}
	}
	return n
}

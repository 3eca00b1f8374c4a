package sim

import (
	"testing"
	"time"

	"github.com/stitchnfv/stitch/interdomain/fsm"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

// BenchmarkConvergence measures, in simulated time, how long one service's
// announcement takes to reach every domain (reach-all: every domain has a
// route; announce: the last best-path change, improvements included, which
// wait for the MRAI) and its withdrawal to remove it everywhere, and the
// UPDATEs sent, with the default MRAI (5 s) and hold time. flood-ratio
// compares UPDATEs with naive flooding (every domain sends once on every
// link: 2 × links); max-changes is the worst number of best-path changes at
// one domain after the withdrawal (path exploration). The variants without
// ghost flushing and without retractions (the origin withdraws without its
// signed retraction, as in the first protocol version) show why both are on
// by default.
func BenchmarkConvergence(b *testing.B) {
	lat := func(n int) Topology { return Random(n, 4, time.Millisecond, 20*time.Millisecond, 42) }
	noGhost := func(_ string, c *fsm.Config) { c.DisableGhostFlushing = true }
	noRetract := func(_ string, c *fsm.Config) { c.DisableRetractions = true }
	for _, tc := range []struct {
		name string
		top  Topology
		tune func(string, *fsm.Config)
	}{
		{"line-10", Line(10, 10*time.Millisecond), nil},
		{"line-50", Line(50, 10*time.Millisecond), nil},
		// No line-100: a path holds at most wire.MaxPathLen (64) domains,
		// so the far end of a 100-domain line never hears of the origin.
		{"ring-10", Ring(10, 10*time.Millisecond), nil},
		{"ring-50", Ring(50, 10*time.Millisecond), nil},
		{"ring-100", Ring(100, 10*time.Millisecond), nil},
		{"random-10", lat(10), nil},
		{"random-50", lat(50), nil},
		{"random-50-no-ghost-flushing", lat(50), noGhost},
		{"random-50-no-retractions", lat(50), noRetract},
		{"random-50-neither", lat(50), func(id string, c *fsm.Config) { noGhost(id, c); noRetract(id, c) }},
		{"random-100", lat(100), nil},
		{"random-300", lat(300), nil},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var r result
			for b.Loop() {
				r = converge(b, tc.top, tc.tune)
			}
			flood := float64(2 * len(tc.top.Links))
			b.ReportMetric(float64(r.reach.Milliseconds()), "reach-all-sim-ms")
			b.ReportMetric(float64(r.announce.Milliseconds()), "announce-sim-ms")
			b.ReportMetric(float64(r.announceMsgs), "announce-updates")
			b.ReportMetric(float64(r.announceMsgs)/flood, "announce-flood-ratio")
			b.ReportMetric(float64(r.withdraw.Milliseconds()), "withdraw-sim-ms")
			b.ReportMetric(float64(r.withdrawMsgs), "withdraw-updates")
			b.ReportMetric(float64(r.withdrawMsgs)/flood, "withdraw-flood-ratio")
			b.ReportMetric(float64(r.maxChanges), "max-changes")
		})
	}
}

type result struct {
	announce, withdraw, reach  time.Duration
	announceMsgs, withdrawMsgs int
	maxChanges                 int
}

func converge(b *testing.B, top Topology, tune func(string, *fsm.Config)) result {
	n := build(b, top, tune)
	var r result
	origin := top.Nodes[0]
	n.ResetStats()
	start := n.Now()
	var reached time.Time
	have := map[string]bool{}
	n.AfterEvent = func() {
		if !reached.IsZero() {
			return
		}
		for _, id := range n.IDs() {
			if !have[id] {
				if _, ok := n.Speaker(id).RIB().Best("video"); ok {
					have[id] = true
				}
			}
		}
		if len(have) == len(top.Nodes) {
			reached = n.Now()
		}
	}
	if err := n.Announce(origin, service("video", 100)); err != nil {
		b.Fatal(err)
	}
	n.Run(10 * time.Minute)
	n.AfterEvent = nil
	r.reach = reached.Sub(start)
	if h := holders(n, "video"); len(h) != len(top.Nodes) {
		b.Fatalf("%d of %d domains have the route", len(h), len(top.Nodes))
	}
	r.announce = n.Stats().LastChange.Sub(start)
	r.announceMsgs = n.Stats().Messages[wire.TypeUpdate]

	n.ResetStats()
	start = n.Now()
	n.Withdraw(origin, "video")
	n.Run(10 * time.Minute)
	if h := holders(n, "video"); len(h) != 0 {
		b.Fatalf("%d domains still hold the route", len(h))
	}
	r.withdraw = n.Stats().LastChange.Sub(start)
	r.withdrawMsgs = n.Stats().Messages[wire.TypeUpdate]
	for _, c := range n.Stats().Changes {
		r.maxChanges = max(r.maxChanges, c)
	}
	return r
}

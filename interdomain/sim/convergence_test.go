package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLineConvergesAndWithdraws(t *testing.T) {
	n := build(t, Line(6, 10*time.Millisecond), nil)
	mustNot(t, n.Announce(NodeID(0), service("video", 100)))
	n.Run(time.Minute)
	for i := 1; i < 6; i++ {
		var want []string
		for j := i - 1; j >= 0; j-- {
			want = append(want, NodeID(j))
		}
		if got := path(n, NodeID(i), "video"); got != strings.Join(want, ",") {
			t.Fatalf("%s: path %q, want %q", NodeID(i), got, strings.Join(want, ","))
		}
	}
	// Metric accumulates the link latencies (10 ms per hop).
	if b, _ := n.Speaker(NodeID(5)).RIB().Best("video"); b.Route.Metric != 50 {
		t.Fatalf("metric at the far end = %d, want 50", b.Route.Metric)
	}
	at := n.Now()
	n.Withdraw(NodeID(0), "video")
	n.Run(time.Minute)
	if h := holders(n, "video"); len(h) != 0 {
		t.Fatalf("after withdrawal %v still hold a route (black hole)", h)
	}
	// Withdrawals are exempt from MRAI: one hop of latency each.
	if got := n.Stats().LastChange.Sub(at); got != 50*time.Millisecond {
		t.Fatalf("withdrawal took %v to reach the far end, want 50ms", got)
	}
}

func TestRingShortestPathsNoLoops(t *testing.T) {
	const size = 7
	n := build(t, Ring(size, 5*time.Millisecond), nil)
	mustNot(t, n.Announce(NodeID(0), service("video", 100)))
	n.Run(time.Minute)
	for i := 1; i < size; i++ {
		got := path(n, NodeID(i), "video")
		hops := strings.Split(got, ",")
		if want := min(i, size-i); len(hops) != want {
			t.Fatalf("%s: path %q has %d hops, want %d", NodeID(i), got, len(hops), want)
		}
		if slices.Contains(hops, NodeID(i)) {
			t.Fatalf("%s: path %q contains itself", NodeID(i), got)
		}
		seen := map[string]bool{}
		for _, h := range hops {
			if seen[h] {
				t.Fatalf("%s: path %q has a loop", NodeID(i), got)
			}
			seen[h] = true
		}
	}
	n.Withdraw(NodeID(0), "video")
	n.Run(time.Minute)
	if h := holders(n, "video"); len(h) != 0 {
		t.Fatalf("after withdrawal %v still hold a route", h)
	}
}

func TestRandomGraphConverges(t *testing.T) {
	n := build(t, Random(50, 4, time.Millisecond, 20*time.Millisecond, 1), nil)
	// Transient forwarding loops: with plain withdrawals, two domains can
	// switch to each other at the same moment on stale news (path
	// exploration after a withdrawal), each loop ending within the largest
	// link latency (20 ms). The origin's retraction removes every path to
	// it at once, so there must be none at all.
	const maxLinkLatency = 20 * time.Millisecond
	var (
		open    = map[string]time.Time{}
		loops   int
		longest time.Duration
		first   time.Time
		last    time.Time
	)
	n.AfterEvent = func() {
		now := map[string]bool{}
		for _, c := range n.ForwardingLoops("video") {
			slices.Sort(c)
			k := strings.Join(c, " ")
			now[k] = true
			if _, ok := open[k]; !ok {
				open[k] = n.Now()
				loops++
				if first.IsZero() {
					first = n.Now()
				}
			}
		}
		for k, since := range open {
			if !now[k] {
				longest = max(longest, n.Now().Sub(since))
				last = n.Now()
				delete(open, k)
			}
		}
	}
	mustNot(t, n.Announce(NodeID(7), service("video", 100)))
	n.Run(5 * time.Minute)
	if h := holders(n, "video"); len(h) != 50 {
		t.Fatalf("%d of 50 domains have the route", len(h))
	}
	n.Withdraw(NodeID(7), "video")
	n.Run(5 * time.Minute)
	if h := holders(n, "video"); len(h) != 0 {
		t.Fatalf("after withdrawal %v still hold a route", h)
	}
	if len(open) != 0 || longest > maxLinkLatency {
		t.Fatalf("forwarding loop lasted %v; still open: %v", longest, open)
	}
	if loops != 0 {
		t.Fatalf("%d transient forwarding loops after the withdrawal, the longest %v", loops, longest)
	}
	t.Logf("%d transient forwarding loops in %v after the withdrawal, the longest %v", loops, last.Sub(first), longest)
}

// TestAnycastChoosesNearest: two origins of one service; each domain picks
// the nearer, then more slots beyond the hysteresis margin at equal
// distance.
func TestAnycastChoosesNearest(t *testing.T) {
	n := build(t, Line(5, time.Millisecond), nil)
	mustNot(t, n.Announce(NodeID(0), service("video", 100)))
	mustNot(t, n.Announce(NodeID(4), service("video", 300)))
	n.Run(time.Minute)
	want := map[string]string{
		NodeID(0): "local", NodeID(1): NodeID(0), NodeID(3): NodeID(4), NodeID(4): "local",
		// d002 is two hops from both: more slots wins.
		NodeID(2): fmt.Sprintf("%s,%s", NodeID(3), NodeID(4)),
	}
	for id, w := range want {
		if got := path(n, id, "video"); got != w {
			t.Fatalf("%s: path %q, want %q", id, got, w)
		}
	}
	b, _ := n.Speaker(NodeID(2)).RIB().Best("video")
	if !strings.Contains(b.Reason, "more free slots (300 vs 100") {
		t.Fatalf("reason %q", b.Reason)
	}
}

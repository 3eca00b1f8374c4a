package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/interdomain/fsm"
	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

// change is one domain's best-path change, as recorded in time order.
type change struct {
	at   time.Time
	node string
	c    rib.Change
}

// record logs every best-path change of svc from now on, and every
// forwarding loop seen at any instant.
func record(n *Network, svc string) (changes *[]change, loops *[]string) {
	changes, loops = &[]change{}, &[]string{}
	n.OnChange = func(at time.Time, node string, c rib.Change) {
		if c.Service == svc {
			*changes = append(*changes, change{at, node, c})
		}
	}
	n.AfterEvent = func() {
		for _, c := range n.ForwardingLoops(svc) {
			*loops = append(*loops, fmt.Sprintf("%v at %v", c, n.Now().Sub(t0)))
		}
	}
	return changes, loops
}

// explored returns the changes after a withdrawal that select a new path
// (path exploration) rather than none.
func explored(changes []change) []string {
	var out []string
	for _, ch := range changes {
		if ch.c.New != nil {
			out = append(out, fmt.Sprintf("%s at %v: %s", ch.node, ch.at.Sub(t0), strings.Join(ch.c.New.Route.Path, ",")))
		}
	}
	return out
}

// TestRetractionNoPathExploration: in meshed and random topologies, once
// the origin withdraws (with its signed retraction), no domain ever selects
// a new path for the service — every change, in time order, is from a path
// to none, one per domain — so no transient forwarding loop can form, and
// in the end no domain has a route. The same scenarios with an origin that
// sends plain withdrawals show the path exploration the retraction removes.
func TestRetractionNoPathExploration(t *testing.T) {
	for _, tc := range []struct {
		name   string
		top    Topology
		origin string
	}{
		{"full-mesh-8", FullMesh(8, 2*time.Millisecond), NodeID(0)},
		{"random-12-degree-6", Random(12, 6, time.Millisecond, 30*time.Millisecond, 3), NodeID(0)},
		{"random-50", Random(50, 4, time.Millisecond, 20*time.Millisecond, 1), NodeID(7)},
		{"random-100", Random(100, 4, time.Millisecond, 20*time.Millisecond, 42), NodeID(0)},
	} {
		for _, retract := range []bool{true, false} {
			name := tc.name
			if !retract {
				name += "-plain-withdrawal"
			}
			t.Run(name, func(t *testing.T) {
				n := build(t, tc.top, func(_ string, c *fsm.Config) { c.DisableRetractions = !retract })
				mustNot(t, n.Announce(tc.origin, service("video", 100)))
				n.Run(time.Minute)
				if h := holders(n, "video"); len(h) != len(tc.top.Nodes) {
					t.Fatalf("%d of %d domains have the route", len(h), len(tc.top.Nodes))
				}
				n.ResetStats()
				changes, loops := record(n, "video")
				start := n.Now()
				n.Withdraw(tc.origin, "video")
				n.Run(time.Minute)
				if h := holders(n, "video"); len(h) != 0 {
					t.Fatalf("after withdrawal %v still hold a route", h)
				}
				ex := explored(*changes)
				took := n.Stats().LastChange.Sub(start)
				if !retract {
					if len(ex) == 0 {
						t.Fatal("no path exploration without retractions: the scenario shows nothing")
					}
					t.Logf("plain withdrawal: %d new paths selected, a forwarding loop present after %d events, withdrawn everywhere in %v, %d UPDATEs",
						len(ex), len(*loops), took, n.Stats().Messages[wire.TypeUpdate])
					return
				}
				if len(ex) != 0 {
					t.Fatalf("after the withdrawal, %d new paths selected: %v", len(ex), ex)
				}
				if len(*loops) != 0 {
					t.Fatalf("transient forwarding loops: %v", *loops)
				}
				per := map[string]int{}
				for _, ch := range *changes {
					per[ch.node]++
				}
				if len(per) != len(tc.top.Nodes) || slices.ContainsFunc(slices.Collect(mapsValues(per)), func(k int) bool { return k != 1 }) {
					t.Fatalf("changes per domain %v, want one at each of %d", per, len(tc.top.Nodes))
				}
				if took > time.Second {
					t.Fatalf("withdrawal took %v", took)
				}
				st := n.Stats()
				t.Logf("retraction: withdrawn everywhere in %v, %d UPDATEs (%d retractions, %d withdrawals, %d announcements)",
					took, st.Messages[wire.TypeUpdate], st.Retracted, st.Withdrawn, st.Announced)
			})
		}
	}
}

func mapsValues(m map[string]int) func(func(int) bool) {
	return func(yield func(int) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// TestRetractionAnycast: with two origins of one service, the retraction of
// one never makes a domain select a path to it again; domains move to the
// other origin, and those whose neighbours had only paths to the retracted
// one go without a route until the other's reaches them.
func TestRetractionAnycast(t *testing.T) {
	n := build(t, Random(30, 4, time.Millisecond, 20*time.Millisecond, 5), nil)
	gone, stays := NodeID(0), NodeID(29)
	mustNot(t, n.Announce(gone, service("video", 100)))
	mustNot(t, n.Announce(stays, service("video", 100)))
	n.Run(time.Minute)
	changes, loops := record(n, "video")
	n.Withdraw(gone, "video")
	n.Run(time.Minute)
	for _, ch := range *changes {
		if ch.c.New != nil && ch.c.New.Route.Origin == gone {
			t.Fatalf("%s selected a path to the retracted origin at %v: %v", ch.node, ch.at.Sub(t0), ch.c.New.Route.Path)
		}
	}
	for _, id := range n.IDs() {
		b, ok := n.Speaker(id).RIB().Best("video")
		if !ok || b.Route.Origin != stays {
			t.Fatalf("%s: best %+v, want a route to %s", id, b, stays)
		}
	}
	if len(*loops) != 0 {
		t.Fatalf("transient forwarding loops: %v", *loops)
	}
	t.Logf("%d best-path changes after one of two origins withdrew", len(*changes))
}

// TestRetractionOvertakesStaleAnnouncement: an announcement of the
// retracted epoch still in flight on a slow link reaches a domain after the
// retraction did over a fast one; the domain refuses it as stale instead of
// installing a route to a service that is gone.
func TestRetractionOvertakesStaleAnnouncement(t *testing.T) {
	d0, d1, d2, d3 := NodeID(0), NodeID(1), NodeID(2), NodeID(3)
	top := Topology{
		Nodes: []string{d0, d1, d2, d3},
		Links: []Link{{d0, d1, time.Millisecond}, {d1, d3, time.Millisecond}, {d0, d2, time.Millisecond}, {d2, d3, 50 * time.Millisecond}},
	}
	n := build(t, top, nil)
	mustNot(t, n.Announce(d0, service("video", 100)))
	n.Run(time.Minute)
	// A big slot change goes out at once and d002 relays it to d003 over
	// the 50 ms link; 2 ms later d000 withdraws, and the retraction
	// reaches d003 through d001 long before that announcement.
	mustNot(t, n.Announce(d0, service("video", 1000)))
	n.Run(2 * time.Millisecond)
	changes, loops := record(n, "video")
	n.Withdraw(d0, "video")
	n.Run(time.Minute)
	if h := holders(n, "video"); len(h) != 0 {
		t.Fatalf("still held by %v", h)
	}
	if st := n.Speaker(d3).RIB().Stats(); st.Stale == 0 {
		t.Fatalf("d003 refused no stale route (stats %+v): the scenario shows nothing", st)
	}
	if ex := explored(*changes); len(ex) != 0 || len(*loops) != 0 {
		t.Fatalf("new paths %v, loops %v", ex, *loops)
	}
}

package rib

import (
	"maps"
	"math"
	"slices"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

// Export returns the route to advertise to peer for service under pol, or
// false if peer should have none: no best path, a service the policy hides,
// a path learnt from that peer (split horizon), or a path through it (it
// would refuse it as a loop, so sending it only costs a message).
func (t *RIB) Export(peer string, pol ExportPolicy, service string) (wire.Route, bool) {
	b := t.loc[service]
	if b == nil || b.Peer == peer || slices.Contains(b.Route.Path, peer) {
		return wire.Route{}, false
	}
	if pol.Services != nil && !slices.Contains(pol.Services, service) {
		return wire.Route{}, false
	}
	if len(b.Route.Path)+1 > wire.MaxPathLen {
		return wire.Route{}, false
	}
	r := b.Route
	r.Signature = slices.Clone(r.Signature)
	// Our id prepended, in one allocation.
	r.Path = append(append(make([]string, 0, len(b.Route.Path)+1), t.cfg.LocalID), b.Route.Path...)
	if pol.MaxSlots > 0 {
		r.Slots = min(r.Slots, pol.MaxSlots)
	}
	r.Metric = uint32(min(uint64(r.Metric)+uint64(pol.Metric), math.MaxUint32))
	return r, true
}

// Services returns every service with a best path, sorted.
func (t *RIB) Services() []string { return slices.Sorted(maps.Keys(t.loc)) }

// Sent returns what Adj-RIB-Out holds for peer and service.
func (t *RIB) Sent(peer, service string) (wire.Route, bool) {
	r, ok := t.out[peer][service]
	return r, ok
}

// RecordSent notes in Adj-RIB-Out that r was announced to peer.
func (t *RIB) RecordSent(peer string, r wire.Route) {
	if t.out[peer] == nil {
		t.out[peer] = map[string]wire.Route{}
	}
	t.out[peer][r.Service] = r
}

// RecordWithdrawn notes in Adj-RIB-Out that service was withdrawn from peer.
func (t *RIB) RecordWithdrawn(peer, service string) {
	delete(t.out[peer], service)
}

// AdjOut returns peer's Adj-RIB-Out sorted by service.
func (t *RIB) AdjOut(peer string) []wire.Route {
	out := make([]wire.Route, 0, len(t.out[peer]))
	for _, s := range slices.Sorted(maps.Keys(t.out[peer])) {
		out = append(out, t.out[peer][s])
	}
	return out
}

// ClearOut empties peer's Adj-RIB-Out, when its session goes down: the next
// session starts from an empty table on both sides.
func (t *RIB) ClearOut(peer string) { delete(t.out, peer) }

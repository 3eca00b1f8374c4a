package rib

import (
	"math"
	"slices"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

// Export returns the route to advertise to peer for service under pol, or
// false if peer should have none: no best path, a service the policy hides,
// a path learnt from that peer (split horizon), or a path through it (it
// would refuse it as a loop, so sending it only costs a message).
func (t *RIB) Export(peer string, pol ExportPolicy, service string) (wire.Route, bool) {
	var b *Best
	if e := t.lookup(service); e != nil {
		b = e.best
	}
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
	r.Signature = t.copySig(r.Signature)
	// Our id prepended, in one allocation, shared by the exports of
	// routes with the same path (never modified in place).
	if !slices.Equal(b.Route.Path, t.expFrom) || t.expPath == nil {
		t.expFrom = b.Route.Path
		t.expPath = append(append(make([]string, 0, len(b.Route.Path)+1), t.cfg.LocalID), b.Route.Path...)
	}
	r.Path = t.expPath
	if pol.MaxSlots > 0 {
		r.Slots = min(r.Slots, pol.MaxSlots)
	}
	r.Metric = uint32(min(uint64(r.Metric)+uint64(pol.Metric), math.MaxUint32))
	return r, true
}

// Services returns every service with a best path, sorted.
func (t *RIB) Services() []string {
	if t.nLoc == 0 {
		return nil
	}
	out := make([]string, 0, t.nLoc)
	for s, e := range t.svcs {
		if e.best != nil {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// Sent returns what Adj-RIB-Out holds for peer and service.
func (t *RIB) Sent(peer, service string) (wire.Route, bool) {
	if e := t.lookup(service); e != nil {
		if r := e.sent(peer); r != nil {
			return *r, true
		}
	}
	return wire.Route{}, false
}

// RecordSent notes in Adj-RIB-Out that r was announced to peer.
func (t *RIB) RecordSent(peer string, r wire.Route) {
	e := t.lookup(r.Service)
	if e == nil {
		e = t.entry(r.Service)
	}
	if old := e.sent(peer); old != nil {
		*old = r
		return
	}
	e.out = append(e.out, outRoute{peer: peer, route: r})
	x := t.outPeers[peer]
	if x == nil {
		x = &peerIndex{}
		t.outPeers[peer] = x
	}
	x.add(r.Service, func(s string) bool { return t.hasSent(peer, s) })
}

func (t *RIB) hasSent(peer, service string) bool {
	e := t.svcs[service]
	return e != nil && e.sent(peer) != nil
}

// RecordWithdrawn notes in Adj-RIB-Out that service was withdrawn from peer.
func (t *RIB) RecordWithdrawn(peer, service string) {
	e := t.lookup(service)
	if e == nil || !t.unsend(e, peer) {
		return
	}
	if t.outPeers[peer].removed() {
		delete(t.outPeers, peer)
	}
	t.drop(service, e)
}

// unsend removes peer's route from e's Adj-RIB-Out, and reports whether
// there was one.
func (t *RIB) unsend(e *entry, peer string) bool {
	for i := range e.out {
		if e.out[i].peer == peer {
			last := len(e.out) - 1
			e.out[i] = e.out[last]
			e.out[last] = outRoute{} // release the route
			e.out = e.out[:last]
			return true
		}
	}
	return false
}

// AdjOut returns peer's Adj-RIB-Out sorted by service.
func (t *RIB) AdjOut(peer string) []wire.Route {
	svcs := t.outPeers[peer].sorted(func(s string) bool { return t.hasSent(peer, s) })
	out := make([]wire.Route, 0, len(svcs))
	for _, s := range svcs {
		out = append(out, *t.svcs[s].sent(peer))
	}
	return out
}

// ClearOut empties peer's Adj-RIB-Out, when its session goes down: the next
// session starts from an empty table on both sides.
func (t *RIB) ClearOut(peer string) {
	x := t.outPeers[peer]
	if x == nil {
		return
	}
	for _, s := range x.svcs { // a superset, maybe with repeats: fine
		if e := t.svcs[s]; e != nil && t.unsend(e, peer) {
			t.drop(s, e)
		}
	}
	delete(t.outPeers, peer)
}

package rib

import (
	"cmp"
	"fmt"
	"slices"
)

// decide recomputes the best path of service and returns the change, if the
// exported best path changed.
func (t *RIB) decide(service string) *Change {
	e := t.svcs[service]
	if e == nil {
		return nil
	}
	if c, ok := t.decideEntry(service, e); ok {
		return &c
	}
	return nil
}

// decideEntry is decide with the service's entry e already looked up,
// returning the change by value and whether there is one. It removes e
// from the RIB if it is left with no path.
func (t *RIB) decideEntry(service string, e *entry) (Change, bool) {
	old := e.best
	// Most services have a path or two: no allocation for those.
	var buf [2]Path
	cands := buf[:0]
	for i := range e.paths {
		if p := &e.paths[i]; !p.Suppressed {
			cands = append(cands, *p)
		}
	}
	var next *Best
	if len(cands) > 0 {
		next = new(Best)
		*next = t.choose(cands, old)
	}
	switch {
	case old == nil && next != nil:
		t.nLoc++
	case old != nil && next == nil:
		t.nLoc--
	}
	e.best = next
	t.drop(service, e)
	if sameBest(old, next) {
		return Change{}, false
	}
	return Change{Service: service, Old: old, New: next}, true
}

// choose picks the best of cands (not empty). The incumbent, the previous
// best if it is still a candidate, gets the benefit of slot hysteresis.
func (t *RIB) choose(cands []Path, old *Best) Best {
	slices.SortFunc(cands, func(a, b Path) int {
		c, _ := t.compare(a, b, false)
		return -c
	})
	if len(cands) == 1 {
		return Best{Path: cands[0], Reason: "only path"}
	}
	first := cands[0]
	inc := -1
	if old != nil {
		inc = slices.IndexFunc(cands, func(p Path) bool { return p.Peer == old.Peer })
	}
	if inc <= 0 {
		c, st := t.compare(first, cands[1], false)
		return Best{Path: first, Reason: t.explain(st, c, first, cands[1])}
	}
	// The plain order prefers a challenger; hysteresis may keep the
	// incumbent.
	c, st := t.compare(first, cands[inc], true)
	if c > 0 {
		return Best{Path: first, Reason: t.explain(st, c, first, cands[inc])}
	}
	return Best{Path: cands[inc], Reason: t.explain(st, c, first, cands[inc])}
}

// step is the rule that decided a comparison.
type step int

const (
	byPref step = iota
	byPathLen
	bySlots
	bySlotsHysteresis // a challenger beat the incumbent beyond the margin
	byHysteresisKept  // the incumbent kept its place within the margin
	byMetric
	byOrigin
	byPeer
)

// compare returns >0 if a is better than b, <0 if worse, and the deciding
// step. With bIncumbent, a must beat b's slots by the hysteresis margin to
// win on slots, and b keeps its place otherwise. It does not allocate: it
// runs for every comparison of every decision.
func (t *RIB) compare(a, b Path, bIncumbent bool) (int, step) {
	if c := cmp.Compare(a.Pref, b.Pref); c != 0 {
		return c, byPref
	}
	if c := cmp.Compare(len(b.Route.Path), len(a.Route.Path)); c != 0 {
		return c, byPathLen
	}
	sa, sb := a.Route.Slots, b.Route.Slots
	if m := t.cfg.Hysteresis.margin(sb); bIncumbent && sa > sb && m > 0 {
		if uint64(sa) > uint64(sb)+m {
			return 1, bySlotsHysteresis
		}
		return -1, byHysteresisKept
	}
	if c := cmp.Compare(sa, sb); c != 0 {
		return c, bySlots
	}
	if c := cmp.Compare(b.Route.Metric, a.Route.Metric); c != 0 {
		return c, byMetric
	}
	if c := cmp.Compare(b.Route.Origin, a.Route.Origin); c != 0 {
		return c, byOrigin
	}
	// Local ("") sorts first, then peers by id: one path per peer, so the
	// order is total and the choice deterministic.
	return cmp.Compare(b.Peer, a.Peer), byPeer
}

// explain phrases the verdict of compare(a, b) = c at step st from the
// winner's side, for the operator.
func (t *RIB) explain(st step, c int, a, b Path) string {
	w, l := a, b
	if c < 0 {
		w, l = b, a
	}
	switch st {
	case byPref:
		return fmt.Sprintf("higher local preference (%d vs %d) than %s", w.Pref, l.Pref, l.via())
	case byPathLen:
		return fmt.Sprintf("shorter domain path (%d vs %d hops) than %s", len(w.Route.Path), len(l.Route.Path), l.via())
	case bySlots:
		return fmt.Sprintf("more free slots (%d vs %d) than %s", w.Route.Slots, l.Route.Slots, l.via())
	case bySlotsHysteresis:
		return fmt.Sprintf("more free slots (%d vs %d, beyond the hysteresis margin of %d) than %s",
			a.Route.Slots, b.Route.Slots, t.cfg.Hysteresis.margin(b.Route.Slots), b.via())
	case byHysteresisKept:
		return fmt.Sprintf("kept: %s has %d free slots, within the hysteresis margin of %d above its %d",
			a.via(), a.Route.Slots, t.cfg.Hysteresis.margin(b.Route.Slots), b.Route.Slots)
	case byMetric:
		return fmt.Sprintf("lower metric (%d vs %d) than %s", w.Route.Metric, l.Route.Metric, l.via())
	case byOrigin:
		return fmt.Sprintf("lower origin id (%s vs %s) than %s", w.Route.Origin, l.Route.Origin, l.via())
	}
	return fmt.Sprintf("lower peer id (%s vs %s) than %s", w.via(), l.via(), l.via())
}

package fsm

import "slices"

// dirtySet is the set of services whose export to a peer may differ from
// Adj-RIB-Out. It is a list that may hold a service more than once, sorted
// and deduplicated when read: services mostly arrive in order (a table is
// sent sorted), so reading costs a linear pass where a map would cost a hash
// insertion per change and a sort of its keys in random order per flush.
type dirtySet struct {
	svcs []string
	// clean is how many of svcs, from the start, are known sorted and
	// unique.
	clean int
}

func (d *dirtySet) add(svc string) {
	d.svcs = append(d.svcs, svc)
	// A service changing many times between flushes (slot churn under a
	// long MRAI) must not grow the list without bound.
	if len(d.svcs) > 2*d.clean+1024 {
		d.sorted()
	}
}

func (d *dirtySet) empty() bool { return len(d.svcs) == 0 }

func (d *dirtySet) clear() {
	clear(d.svcs)
	d.svcs, d.clean = d.svcs[:0], 0
}

// sorted returns the services, sorted, each once. The slice is the set's
// own: the caller passes what stays dirty to keep.
func (d *dirtySet) sorted() []string {
	if d.clean < len(d.svcs) {
		slices.Sort(d.svcs)
		d.svcs = slices.Compact(d.svcs)
		d.clean = len(d.svcs)
	}
	return d.svcs
}

// keep replaces the set with svcs, sorted and unique: a prefix of what
// sorted returned, rewritten in place.
func (d *dirtySet) keep(svcs []string) {
	clear(d.svcs[len(svcs):]) // release the strings
	d.svcs, d.clean = svcs, len(svcs)
}

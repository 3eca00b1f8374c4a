// Package slots is stitch's SDK for service authors: it counts an
// instance's FUSION session slots and serves them at GET /slots, where
// stitch collects them.
//
// A session slot is the capacity for one more parallel session with the
// service's quality (FUSION D3.1 §4.3). An instance is given a budget at
// start (the environment variable STITCH_SLOTS, from the VNFD's `slots`);
// each session takes a slot when it starts and gives it back when it
// ends; a session that finds no free slot is refused (HTTP 503 with
// Retry-After is the polite answer). stitch's VNFM polls GET /slots on the
// instance's health-check port every few hundred milliseconds and hands the
// table to the service router, which sends new sessions only to instances
// with free slots (and keeps headroom for reports that are already stale
// when they arrive).
//
//	budget := slots.New(slots.FromEnv(10))
//	mux.Handle("/slots", slots.Handler(budget, logger))
//	release, ok := budget.Acquire()
//	if !ok { /* refuse the session */ }
//	defer release()
//
// GET /slots answers {"max": M, "available": A, "in_use": U, "seq": S}:
// S counts changes, so a collector can tell a fresh report from a repeated
// one. PUT /slots {"max": N} is FUSION's ServiceModifySessions, a new budget
// at run time.
package slots

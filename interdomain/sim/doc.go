// Package sim is a deterministic discrete-event simulator for the
// inter-domain protocol: it wires fsm.Speakers along the links of a topology,
// delivers their messages after each link's latency, calls Tick at each
// speaker's NextDeadline, and lets tests cut links, black-hole them, crash
// and restart domains and inject forged messages. There is no network, no
// goroutine and no wall clock: a run is a pure function of its inputs, so
// tests assert exact outcomes and large topologies run in milliseconds.
//
// Events at the same instant run in the order they were scheduled, so
// messages on a link arrive in the order they were sent, as on the single
// stream per neighbour that the real transport uses.
package sim

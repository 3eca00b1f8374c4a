// Package sim is a deterministic discrete-event simulation of a service
// router in front of instances with session slots, to measure how many new
// sessions each balancing policy refuses while some instance still had a
// free slot ("wrongly refused").
//
// Instances of different sizes take sessions that arrive as a Poisson
// process at a fraction of the total slots (Load) and last an
// exponentially distributed time. A session sent to a full instance is
// refused: there is no retry, so every refusal counts. Each instance
// measures its free slots every ReportInterval (at its own phase) and the
// report reaches the router Staleness later; the slot-aware router
// rebuilds its table every RebuildEvery from the reports it has and the
// sessions it sent since. The run is a pure function of the Config: same
// seed, same numbers.
//
// "Wrongly refused" is the figure that matters: a refusal while every
// instance is full is the capacity plan's fault, not the router's.
// Run with
//
//	go test -run '^$' -bench SimFigures -benchtime 1x ./servicerouter/sim/
//
// to print the figures for the three policies (about 0.8 %, 4.6 % and
// 43 % with the defaults) and for variants of the slot-aware rule.
//
// The policies:
//
//   - SlotAware: weighted Maglev (package maglev, updated incrementally)
//     with weights from package slots: free slots minus headroom for
//     staleness and churn. Each session keeps its instance (per-flow
//     affinity); only new flows follow the table.
//   - StaticMaglev: weighted Maglev with weights fixed at each instance's
//     Max slots, as a router that ignores slot reports would do.
//   - RoundRobin: instances in turn, regardless of size or load.
package sim

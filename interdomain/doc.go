// Package interdomain is the root of stitch's inter-domain service routing:
// neighbouring orchestration domains exchange service routes ("service S is
// reachable through me, with this many free session slots, this far away")
// with a BGP-like announce/withdraw protocol.
//
// The protocol is split so that its core can be tested and simulated without
// a network:
//
//   - wire: the messages, their protobuf encoding and stream framing.
//   - rib: Adj-RIB-In, Loc-RIB, Adj-RIB-Out, best-path selection, origin
//     signature checks, retraction tombstones and per-peer export policy.
//   - damping: route flap damping (RFC 2439 with RIPE-580 thresholds).
//   - fsm: the protocol as a pure state machine (sessions, timers, MRAI,
//     graceful restart, max-routes, origin-signed retractions), driven by
//     inputs and the current time.
//   - sim: a deterministic discrete-event simulator wiring many fsm
//     instances together with link latencies.
//
// The libp2p transport (protocol ID /stitch/svcroute/1.0.0, one long-lived
// stream per neighbour) is a thin shell around fsm and lives elsewhere.
package interdomain

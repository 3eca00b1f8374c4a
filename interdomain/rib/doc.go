// Package rib holds the routing information bases of one domain and chooses
// its best path per service:
//
//   - Adj-RIB-In: the routes each peer announced, as received, after loop
//     and origin-signature checks.
//   - Loc-RIB: the best path per service among the usable Adj-RIB-In routes
//     and the locally originated ones, with the reason it won.
//   - Adj-RIB-Out: what was last sent to each peer, so that only differences
//     are sent and a ROUTE-REFRESH can be answered.
//
// A RIB is a plain value with no clock and no I/O; the fsm package owns one
// and drives it. It is not safe for concurrent use.
//
// Best path, in order: local preference (policy), shortest domain path, most
// free slots, lowest metric, lowest origin id, then lowest peer id so that the
// choice is deterministic. The slots step has hysteresis: a challenger
// displaces the current best by slots only if it has more than the
// incumbent's slots plus a margin, so that slot counts moving by a few (they
// change with every session) do not make the best path, and so every
// neighbour's route, flip back and forth.
//
// Tombstones: an origin's verified retraction (Retract) removes every path
// to its service up to the retracted epoch, whichever peer it came from,
// and is remembered for a TTL (capped per service) so that announcements of
// that epoch still in flight are refused as stale.
package rib

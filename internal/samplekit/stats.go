package samplekit

import (
	"sync/atomic"

	"github.com/stitchnfv/stitch/sdk/slots"
)

// Stats are the counters every sample program serves at GET /stats.
type Stats struct {
	// Requests counts requests to the program's own routes (not /healthz,
	// /stats or /slots, which probes would otherwise dominate).
	Requests atomic.Uint64
	// Forwarded counts requests passed on to a next hop or a dependency
	// that answered.
	Forwarded atomic.Uint64
	// Dropped counts requests a deny rule discarded.
	Dropped atomic.Uint64
	// Rejected counts requests refused for lack of a session slot.
	Rejected atomic.Uint64
	// Errors counts requests that failed here: no next hop, an unreachable
	// dependency, a storage failure.
	Errors atomic.Uint64
}

// StatsSnapshot is the JSON of GET /stats.
type StatsSnapshot struct {
	Role      string          `json:"role"`
	Instance  string          `json:"instance"`
	Requests  uint64          `json:"requests"`
	Forwarded uint64          `json:"forwarded"`
	Dropped   uint64          `json:"dropped"`
	Rejected  uint64          `json:"rejected"`
	Errors    uint64          `json:"errors"`
	Slots     *slots.Snapshot `json:"slots,omitempty"`
}

// Snapshot reads the counters. They are read one by one: a snapshot taken
// under load may be off by the requests in flight, which is fine for
// monitoring.
func (s *Stats) Snapshot() StatsSnapshot {
	return StatsSnapshot{
		Requests:  s.Requests.Load(),
		Forwarded: s.Forwarded.Load(),
		Dropped:   s.Dropped.Load(),
		Rejected:  s.Rejected.Load(),
		Errors:    s.Errors.Load(),
	}
}

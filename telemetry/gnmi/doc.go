// Package gnmi serves a telemetry.Tree as a gNMI target (gRPC service
// gnmi.gNMI): Capabilities, Get and Subscribe in STREAM (SAMPLE, ON_CHANGE,
// TARGET_DEFINED), ONCE and POLL modes. Set is not served: the tree is
// operational state owned by the embedding service, so Set answers
// Unimplemented.
//
// openconfig/gnmi's own subscribe server only streams cache-driven
// ON_CHANGE updates and has no Get, so this package implements the RPCs
// itself on top of telemetry.Tree and telemetry.Watch.
//
// Semantics worth knowing:
//
//   - Leaves are always sent as scalar TypedValues in Subscribe (the
//     specification allows scalars for leaves whatever the requested
//     encoding; clients such as gnmi_cli decode them natively). Get honours
//     the requested encoding per leaf: PROTO gives scalars, JSON and
//     JSON_IETF give json_val / json_ietf_val (RFC 7951: 64-bit integers as
//     strings). Other encodings answer Unimplemented.
//   - TARGET_DEFINED is ON_CHANGE: every leaf here is state that the service
//     sets when it changes.
//   - sample_interval 0 means the minimum interval (Options.MinInterval,
//     100 ms by default); a non-zero sample or heartbeat interval below the
//     minimum is rejected with InvalidArgument.
//   - A slow client never blocks writers or other clients: ON_CHANGE
//     updates are coalesced to the latest value per leaf (the update carries
//     the count in "duplicates"), and SAMPLE ticks that fall due while a
//     send is blocked are skipped, not queued. Both are counted in Stats.
//   - Get of a path without wildcards that selects no leaf is NotFound; a
//     wildcard that selects nothing returns an empty notification. Subscribe
//     ONCE answers NotFound when nothing matches and some path has no
//     wildcard. STREAM and POLL accept paths that have no data yet, because
//     a subscriber usually arrives before the instance it watches.
//   - Deletions reach ON_CHANGE subscribers as deletes at once, and SAMPLE
//     subscribers as deletes in the first sample after the leaf went away.
//   - Every update carries the time its leaf last changed, not the time it
//     was sent: samples and heartbeats of an unchanged value repeat the
//     timestamp, so a collector can tell a resend from a change.
//   - heartbeat_interval: ON_CHANGE resends every current value once per
//     interval; SAMPLE with suppress_redundant resends an unchanged leaf at
//     the first sample at least heartbeat_interval after it was last sent.
//   - The target does no authentication itself: pass TLS credentials and
//     interceptors in Options.ServerOptions, or Register it on a server
//     that has them.
//   - gNMI extensions answer Unimplemented; allow_aggregation and QoS
//     marking are accepted and ignored.
package gnmi

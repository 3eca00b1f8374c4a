// Package fsm is the inter-domain service routing protocol as a pure state
// machine, in the manner of etcd's raft package: a Speaker holds one domain's
// sessions with its configured neighbours and its RIB, and changes only when
// called. It starts no goroutines, reads no clock and does no I/O.
//
// Inputs are methods that take the current time: Connected and Disconnected
// (the transport's stream to a neighbour came up or went away), Receive (a
// decoded message), ReceiveError (a frame that did not decode), Tick (time
// passed), Announce and Withdraw (local services and their free slots),
// RequestRefresh and Shutdown. Outputs accumulate until Ready drains them:
// messages to send per peer, sessions to close, Loc-RIB changes and session
// events. NextDeadline says when Tick must be called next.
//
// A transport drives it like this (libp2p, next step): one long-lived stream
// per neighbour on protocol /stitch/svcroute/1.0.0, opened by the dialling
// side; when it is up, call Connected; a reader goroutine per stream decodes
// frames (wire.ReadFrame) and hands messages to the single goroutine that
// owns the Speaker, which calls Receive (or ReceiveError). That goroutine also
// sleeps until NextDeadline and calls Tick, applies local changes, and after
// every call takes Ready() and writes each peer's messages to its stream in
// order, closing the streams listed in Close afterwards. A stream that fails
// is reported with Disconnected; redialling with back-off is the transport's
// job, as is refusing unconfigured peers before they reach the Speaker.
//
// The session: on Connected we send OPEN (OpenSent); a valid OPEN from the
// configured domain, with our version and an acceptable hold time, is
// answered with KEEPALIVE (OpenConfirm); the peer's KEEPALIVE establishes the
// session, and we send our whole Adj-RIB-Out followed by END-OF-RIB. Any
// error sends a NOTIFICATION and closes the session.
//
// Timers: the hold time is the smaller of both OPENs; a session silent for it
// is closed with a NOTIFICATION and everything learnt from the peer is
// withdrawn. KEEPALIVEs go every hold/3 when nothing else was sent.
// Announcements to a peer are batched by a minimum route advertisement
// interval (MRAI); withdrawals go at once, as the IETF's MRAI revision
// advises, since a late withdrawal is a black hole while a late announcement
// is only a missed opportunity. Local slot counts change with every session,
// so they are re-announced only when they moved by more than a threshold or
// once per slot interval.
//
// Path exploration: after a withdrawal, BGP-like protocols try every longer
// path before giving up, one MRAI per step, because each domain still
// advertises paths it no longer has. We apply ghost flushing: when a peer's
// route gets longer and the MRAI holds the new one back, the old one is
// withdrawn at once. In the simulator this takes a 50-domain random graph
// from about 70 s to about 0.1 s to converge after a withdrawal (see the
// sim package's BenchmarkConvergence).
//
// Ghost flushing shortens path exploration; retractions remove it. A local
// service is originated with an epoch (the clock, strictly increasing),
// signed with the route; Withdraw sends, with the withdrawal, a retraction of
// that epoch signed with the domain's key. A domain that receives a
// retraction newer than what it remembers verifies it, drops every path to
// that origin and epoch from every peer at once, remembers it (a tombstone
// refusing retracted routes still in flight) and floods it on at once to its
// other established peers in the same UPDATE as the withdrawals it causes.
// After an origin's withdrawal no domain selects a new path to it, so there
// is no transient forwarding loop; the 50-domain random graph converges in
// one flood (see retract.go).
//
// Flap damping (package damping) applies per peer and service to what
// peers announce; local services are rate-limited instead.
package fsm

// Package samplekit is the shared kit of stitch's sample VNFs and
// microservices (cmd/stitch-firewall, -lb, -web, -backend, -kvdb): the
// environment contract the VNFM hands every VDU instance, a watcher of the
// bindings file that tells an instance where its neighbours are, a picker
// with passive health, an HTTP server with health, stats and graceful
// shutdown, hop-by-hop tracing and FUSION session slots.
//
// The programs themselves live in the sub-packages (firewall, lb, web,
// backend, kvdb) so that one test can wire a whole chain in-process; the
// mains only turn flags into their options.
package samplekit

// Package control is the control API of a standalone service router
// (cmd/stitch-router): stitchd pushes the complete desired set of services
// and the instances' slot reports to it over HTTP, and reads back what the
// router made of them. It holds the JSON types, the HTTP handler wrapping a
// servicerouter.Router, its Prometheus metrics and a Go client.
//
// # Routes
//
//	PUT  /v1/services  {"services":[Service...]}  the complete desired set;
//	                   answers as GET does, with the result
//	GET  /v1/services  {"services":[ServiceView...]}
//	POST /v1/reports   {"reports":[Report...]} -> ReportResult
//	GET  /healthz      {"status":"ok"}
//	GET  /metrics      Prometheus text format
//
// A PUT is declarative and idempotent: services it does not list are
// deleted, listed ones are created or updated, and an instance's Draining
// flag is applied as servicerouter.Router.Drain. The whole body is
// validated before anything changes, so a bad body answers 400 and leaves
// the router as it was. Errors are {"error":"..."} with the HTTP status.
package control

// DefaultPort is the TCP port the control API listens on.
const DefaultPort = 9180

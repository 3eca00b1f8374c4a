// Command stitch-router is stitch's standalone anycast service router. It
// runs inside a network namespace with one interface on a service's
// virtual network, attaches the XDP data plane (package xdp) to the
// interface holding --address (or runs the userspace data plane on it),
// and serves the control API (package servicerouter/control) on
// --address:--control-port, through which stitchd pushes the desired
// services and the instances' slot reports and reads the router's view.
// SIGTERM or SIGINT stops it cleanly: the API closes, the program is
// detached and its maps freed.
package main

import "github.com/stitchnfv/stitch/internal/samplekit"

func main() { samplekit.Main(run) }

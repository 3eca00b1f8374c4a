package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"

	"github.com/stitchnfv/stitch/internal/samplekit"
	"github.com/stitchnfv/stitch/servicerouter/control"
)

// EnvAddress is the default of --address.
const EnvAddress = "STITCH_ROUTER_ADDRESS"

// defaultConnTable keeps the connection table's kernel memory (charged to
// the router's memory-limited cgroup) at a few MiB.
const defaultConnTable = 65536

// Data plane modes.
const (
	modeNative    = "native"    // XDP in the driver
	modeGeneric   = "generic"   // XDP on the skb path: any interface, slower
	modeUserspace = "userspace" // AF_PACKET and servicerouter/userspace: no BPF
)

const about = `Anycast service router of a stitch network service. It attaches the XDP
data plane to the interface holding --address, places each new session to a
service's VIP on an instance with free session slots (IPIP/IPv6 tunnels,
out of the same interface) and serves the control API on
--address:--control-port:

  PUT  /v1/services   the complete desired set of services
  GET  /v1/services   what the router serves, with table shares and estimates
  POST /v1/reports    the instances' session-slot reports
  GET  /healthz       liveness
  GET  /metrics       Prometheus metrics`

type options struct {
	address     netip.Addr
	controlPort uint16
	mode        string
	connTable   uint32
	logLevel    slog.Level
}

func parseFlags(args, env []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("stitch-router", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: stitch-router --address IP [flags]\n\n%s\n\nflags:\n", about)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nenvironment:\n  %s\n        default of --address\n", EnvAddress)
	}
	def, _ := samplekit.LookupEnv(env, EnvAddress)
	address := fs.String("address", def, "this router's `IP` on the service network: selects the interface, is the tunnels' source and the API's address (default $"+EnvAddress+")")
	port := fs.Uint("control-port", control.DefaultPort, "TCP `port` of the control API")
	mode := fs.String("mode", modeNative, "data plane: native or generic (XDP), or userspace")
	conns := fs.Uint("conn-table", defaultConnTable, "`flows` the connection table holds (kernel memory, about 100 bytes each)")
	lvl := samplekit.LogLevelFlag(fs)
	if err := samplekit.ParseFlags(fs, args); err != nil {
		return options{}, err
	}
	opts := options{mode: *mode, logLevel: *lvl}
	a, err := netip.ParseAddr(*address)
	switch {
	case *address == "":
		return options{}, samplekit.Usagef(fs, "--address (or $%s) is required", EnvAddress)
	case err != nil || a.Zone() != "" || !a.Unmap().IsGlobalUnicast():
		return options{}, samplekit.Usagef(fs, "--address %q: want a unicast IP address", *address)
	}
	opts.address = a.Unmap()
	if *port == 0 || *port > 65535 {
		return options{}, samplekit.Usagef(fs, "--control-port %d: want 1-65535", *port)
	}
	opts.controlPort = uint16(*port)
	if m := []string{modeNative, modeGeneric, modeUserspace}; !slices.Contains(m, opts.mode) {
		return options{}, samplekit.Usagef(fs, "--mode %q: want %s", opts.mode, strings.Join(m, ", "))
	}
	if *conns == 0 || *conns > 1<<24 {
		return options{}, samplekit.Usagef(fs, "--conn-table %d: want 1-%d", *conns, 1<<24)
	}
	opts.connTable = uint32(*conns)
	return opts, nil
}

package vnfm

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	sdktelemetry "github.com/stitchnfv/stitch/sdk/telemetry"
	"github.com/stitchnfv/stitch/telemetry"
	"github.com/stitchnfv/stitch/telemetry/gnmi"
	"github.com/stitchnfv/stitch/vim"
)

// telemetryWait bounds every wait: a hang guard, not a performance
// assertion. On a loaded machine things are slower, never wrong.
const telemetryWait = 20 * time.Second

// telemetryEventually polls cond until it holds or the hang guard expires.
func telemetryEventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(telemetryWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not the case after %v: %s", telemetryWait, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// gnmiInstance is a simulated instance: a tree served by a gNMI target
// named after the instance, as sdk/telemetry's Publisher does. It can be
// stopped and started again on the same address.
type gnmiInstance struct {
	Tree        *telemetry.Tree
	Profile, ID string
	Addr        string
	target      *gnmi.Target
	cancel      context.CancelFunc
	served      chan error
	tb          testing.TB
	name        string // target name; "" serves any
}

func newGNMIInstance(tb testing.TB, profile, id string) *gnmiInstance {
	tb.Helper()
	g := &gnmiInstance{Tree: telemetry.NewTree(), Profile: profile, ID: id, Addr: "127.0.0.1:0", tb: tb, name: id}
	g.start()
	tb.Cleanup(g.stop)
	return g
}

// start serves on g.Addr (the first time a kernel-chosen port).
func (g *gnmiInstance) start() {
	g.tb.Helper()
	lis, err := net.Listen("tcp", g.Addr)
	if err != nil {
		g.tb.Fatalf("listen %s: %v", g.Addr, err)
	}
	g.Addr = lis.Addr().String()
	g.target = gnmi.NewTarget(g.Tree, gnmi.Options{Name: g.name,
		Logger: slog.New(slog.DiscardHandler), ShutdownGrace: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel, g.served = cancel, make(chan error, 1)
	go func() { g.served <- g.target.Serve(ctx, lis) }()
}

// stop shuts the target down (its listener closes with it).
func (g *gnmiInstance) stop() {
	if g.cancel == nil {
		return
	}
	g.cancel()
	if err := <-g.served; err != nil {
		g.tb.Errorf("Serve %s: %v", g.Addr, err)
	}
	g.cancel = nil
}

func (g *gnmiInstance) set(tb testing.TB, metric string, v any) {
	tb.Helper()
	if err := g.Tree.Set(sdktelemetry.MetricPath(g.Profile, g.ID, metric), v); err != nil {
		tb.Fatal(err)
	}
}

func (g *gnmiInstance) targetFor(ns string, metrics ...TelemetryMetric) TelemetryTarget {
	return TelemetryTarget{Instance: g.ID, NS: ns, Profile: g.Profile, Site: "site-a", Addr: g.Addr, Metrics: metrics}
}

// siteVIM dials on the host and records the sites it was asked to dial
// from, to check that the collector goes through the VIM.
type siteVIM struct {
	vim.Driver
	mu    sync.Mutex
	sites map[string]int
}

func (v *siteVIM) DialContext(ctx context.Context, site, network, address string) (net.Conn, error) {
	v.mu.Lock()
	if v.sites == nil {
		v.sites = map[string]int{}
	}
	v.sites[site]++
	v.mu.Unlock()
	return (&net.Dialer{}).DialContext(ctx, network, address)
}

func (v *siteVIM) dialled(site string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.sites[site]
}

// loopbackDial is TelemetryOptions.Dial on the host.
func loopbackDial(ctx context.Context, _, addr string) (net.Conn, error) {
	return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
}

// runCollector starts a collector of a Manager on driver (nil: a siteVIM)
// and runs it for the test.
func runCollector(tb testing.TB, driver vim.Driver, opts TelemetryOptions) *TelemetryCollector {
	tb.Helper()
	if driver == nil {
		driver = &siteVIM{}
	}
	m, err := New(driver, tb.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	c := m.NewTelemetryCollector(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	tb.Cleanup(func() { cancel(); <-done })
	return c
}

// telemetryReportOf returns an instance's report, or the zero one.
func telemetryReportOf(c *TelemetryCollector, instance string) TelemetryReport {
	for _, r := range c.Snapshot("") {
		if r.Instance == instance {
			return r
		}
	}
	return TelemetryReport{}
}

func reportHasPath(r TelemetryReport, path string) bool {
	for _, v := range r.Values {
		if v.Path == path {
			return true
		}
	}
	return false
}

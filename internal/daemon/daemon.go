// Package daemon wires stitch's parts into one process: the store, the local
// VIM, the VNFM, the NFVO and the northbound API. cmd/stitchd and the tests
// that run the daemon in-process share it.
package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/stitchnfv/stitch/interdomain/transport"
	"github.com/stitchnfv/stitch/internal/config"
	"github.com/stitchnfv/stitch/internal/metrics"
	"github.com/stitchnfv/stitch/internal/ovnhost"
	"github.com/stitchnfv/stitch/internal/store"
	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/nfvo/api"
	"github.com/stitchnfv/stitch/sfc/ovn"
	"github.com/stitchnfv/stitch/vim"
	"github.com/stitchnfv/stitch/vim/local"
	"github.com/stitchnfv/stitch/vnfm"
)

// slotsInterval is how often the session slots of every instance are read:
// a service router balancing on them wants reports well under a second
// old, and one read is a small HTTP GET on the site's network.
const slotsInterval = 200 * time.Millisecond

// autoscaleInterval is how often scaling policies are evaluated: well under
// the slot reports' 200 ms plus a policy's duration, so that detection
// and decision stay within a second of the load crossing a threshold.
const autoscaleInterval = 250 * time.Millisecond

// Daemon is a running stitch.
type Daemon struct {
	Orchestrator *nfvo.Orchestrator
	VIM          *local.Driver
	// OVN is the northbound client on the OVN fabric (nil on bridges).
	OVN *ovn.Client
	// Central is the OVN control plane stitchd runs itself (embedded OVN).
	Central *ovnhost.Central
	// Addr is the address the API listens on (useful with port 0).
	Addr string
	// InterDomain is the inter-domain routing node (nil when the
	// configuration has no interdomain section).
	InterDomain *transport.Node

	store  store.Store
	server *http.Server
	// background runs the slot collector until stopBackground.
	background     sync.WaitGroup
	stopBackground context.CancelFunc
	done           chan error
	log            *slog.Logger
}

// Start opens the store, adopts what a previous run left (resuming its
// operations), and serves the API.
func Start(ctx context.Context, cfg config.Config, log *slog.Logger) (*Daemon, error) {
	if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	st, err := store.Open(filepath.Join(cfg.StateDir, "stitch.db"))
	if err != nil {
		return nil, err
	}
	d := &Daemon{store: st, log: log, done: make(chan error, 1)}
	if err := d.start(ctx, cfg); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *Daemon) start(ctx context.Context, cfg config.Config) error {
	vcfg := vimConfig(cfg, d.log.With("part", "vim"))
	var wiring nfvo.Wiring
	if cfg.Network.Fabric == config.FabricOVN {
		sb, err := d.startOVN(ctx, cfg)
		if err != nil {
			return err
		}
		vcfg.OVN = &local.OVNConfig{SBRemote: sb}
		if cfg.Network.OVN.Underlay != "" {
			vcfg.OVN.Underlay = netip.MustParsePrefix(cfg.Network.OVN.Underlay) // validated
		}
		wiring = d.OVN
	}
	drv, err := local.New(ctx, vcfg)
	if err != nil {
		return fmt.Errorf("local VIM: %w", err)
	}
	d.VIM = drv
	mgr, err := vnfm.New(drv, filepath.Join(cfg.StateDir, "vnfm"), d.log.With("part", "vnfm"))
	if err != nil {
		return err
	}
	if cfg.InterDomain != nil {
		node, err := startInterDomain(ctx, cfg, d.log.With("part", "interdomain"))
		if err != nil {
			return err
		}
		d.InterDomain = node
	}
	collector := mgr.NewSlotCollector(slotsInterval)
	telemetry := mgr.NewTelemetryCollector(vnfm.TelemetryOptions{})
	bg, stop := context.WithCancel(context.Background())
	d.stopBackground = stop
	d.background.Go(func() { collector.Run(bg) })
	d.background.Go(func() { telemetry.Run(bg) })
	orch, err := nfvo.New(nfvo.Config{
		Store:         d.store,
		VNFM:          mgr,
		Logger:        d.log.With("part", "nfvo"),
		HealthTimeout: time.Duration(cfg.HealthTimeout),
		DefaultGrace:  time.Duration(cfg.DefaultGrace),
		DrainTimeout:  time.Duration(cfg.DrainTimeout),
		Wiring:        wiring,
		Slots:         collector,
		Router:        routerConfig(cfg),
		Overflow:      overflowRoutes(d.InterDomain),
		Telemetry:     telemetry,
		Metrics:       telemetry,
	})
	if err != nil {
		return err
	}
	d.Orchestrator = orch
	if err := orch.Start(ctx); err != nil {
		return err
	}
	d.background.Go(func() { orch.RunRouters(bg, slotsInterval) })
	d.background.Go(func() { orch.RunAutoscaler(bg, autoscaleInterval) })
	if node := d.InterDomain; node != nil {
		d.background.Go(func() { orch.RunAnnouncer(bg, announcer{node}, announceInterval) })
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("API listener: %w", err)
	}
	d.Addr = ln.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(orch, d.log.With("part", "metrics")))
	mux.Handle("/", api.NewHandler(service{orch, d.InterDomain}, d.log.With("part", "api")))
	d.server = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { d.done <- d.server.Serve(ln) }()
	d.log.Info("stitchd serving", "addr", d.Addr, "state-dir", cfg.StateDir, "sites", len(cfg.VIM.Sites))
	return nil
}

// routerConfig is the NFVO's service router configuration, nil when off.
func routerConfig(cfg config.Config) *nfvo.RouterConfig {
	r := cfg.ServiceRouter
	if !r.Enabled(cfg.Network.Fabric) {
		return nil
	}
	return &nfvo.RouterConfig{Program: cmp.Or(r.Program, "stitch-router"), Mode: cmp.Or(r.Mode, config.RouterNative), MemoryMB: r.MemoryMB}
}

// vimConfig is the local VIM's configuration within the daemon's.
func vimConfig(cfg config.Config, log *slog.Logger) local.Config {
	sites := make([]local.SiteConfig, 0, len(cfg.VIM.Sites))
	for _, s := range cfg.VIM.Sites {
		sites = append(sites, local.SiteConfig{
			Name:    s.Name,
			Labels:  s.Labels,
			NetNS:   s.NetNS,
			EncapIP: s.EncapIP,
			Capacity: vim.Resources{
				VCPU: s.Capacity.VCPU, MemoryMB: s.Capacity.MemoryMB, Instances: s.Capacity.Instances,
			},
		})
	}
	return local.Config{
		Prefix:      cfg.VIM.Prefix,
		StateDir:    filepath.Join(cfg.StateDir, "vim"),
		Sites:       sites,
		Logger:      log,
		ProgramPath: cfg.ProgramPath,
	}
}

// Wait blocks until the API server stops.
func (d *Daemon) Wait() error {
	err := <-d.done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops serving and background work. Instances keep running, as VMs
// outlive their orchestrator; the next Start adopts them.
func (d *Daemon) Close() error {
	var errs []error
	if d.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, d.server.Shutdown(ctx))
		cancel()
	}
	if d.Orchestrator != nil {
		d.Orchestrator.Close()
	}
	if d.stopBackground != nil {
		d.stopBackground()
		d.background.Wait()
	}
	if d.InterDomain != nil {
		errs = append(errs, d.InterDomain.Close())
	}
	if d.VIM != nil {
		errs = append(errs, d.VIM.Close())
	}
	if d.OVN != nil {
		d.OVN.Close()
	}
	errs = append(errs, d.store.Close())
	return errors.Join(errs...)
}

// Package nfvo is stitch's orchestrator: the descriptor catalog, NS
// instances and their LCM operation occurrences, placement across sites, and
// the reconciler that drives the VNFM towards each instance's desired state.
package nfvo

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/stitchnfv/stitch/internal/store"
	"github.com/stitchnfv/stitch/vnfm"
)

// Buckets of the store.
const (
	bucketVNFD = "vnfd"
	bucketNSD  = "nsd"
	bucketNS   = "ns"
	bucketVnfc = "vnfc" // key "<nsID>/<vnfcID>"
	bucketOp   = "op"
	bucketSub  = "subscription"
)

// Config wires an Orchestrator.
type Config struct {
	Store  store.Store
	VNFM   *vnfm.Manager
	Logger *slog.Logger
	// HealthTimeout bounds the wait for one instance to become healthy.
	HealthTimeout time.Duration
	// MonitorInterval is how often running instances are checked for
	// failures (healing).
	MonitorInterval time.Duration
	// DefaultGrace is how long an instance may take to stop gracefully.
	DefaultGrace time.Duration
	// DrainTimeout bounds how long a scale-in or heal waits for the
	// sessions of the instances it removes to end.
	DrainTimeout time.Duration
	// HTTPClient delivers webhook notifications.
	HTTPClient *http.Client
	// Slots, when set, collects the session-slot reports of every healthy
	// instance with slots (the monitor keeps its targets current).
	Slots *vnfm.SlotCollector
	// Wiring, when set, renders every NS into the SDN (OVN) and binds
	// instances to its logical ports; the VIM must run a binding fabric.
	Wiring Wiring
	// Router, when set, serves every service access point with stitch's
	// service router (see RouterConfig); it needs Wiring.
	Router *RouterConfig
	// Overflow, when set, gives the routers a remote route for the
	// sessions no local instance has a slot for.
	Overflow OverflowRoutes
	// Metrics, when set, gives scaling policies on monitoring parameters
	// their values (free-slots-ratio needs only Slots).
	Metrics MetricSource
	// Telemetry, when set, follows every healthy instance over gNMI (the
	// monitor keeps its targets current); an instance that published and
	// then went silent is healed.
	Telemetry *vnfm.TelemetryCollector
}

// Orchestrator is the NFVO. Its methods are safe for concurrent use.
type Orchestrator struct {
	cfg   Config
	store store.Store
	vnfm  *vnfm.Manager
	log   *slog.Logger
	now   func() time.Time

	runner *runner
	notify *notifier

	scaler scaler
	prober prober
	plans  planCache
	// changed wakes the announcer when an operation starts or ends: a
	// terminate withdraws the NS's services at once, a completed
	// instantiate announces them without waiting for the next poll.
	changed chan struct{}

	routerMu   sync.Mutex
	routerHTTP map[string]*http.Client // by site: dials routers from inside it

	bg      sync.WaitGroup
	cancel  context.CancelFunc
	baseCtx context.Context
}

// New returns an orchestrator; call Start to resume interrupted operations
// and begin monitoring.
func New(cfg Config) (*Orchestrator, error) {
	if cfg.Store == nil || cfg.VNFM == nil {
		return nil, errors.New("nfvo: Store and VNFM are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HealthTimeout <= 0 {
		cfg.HealthTimeout = 60 * time.Second
	}
	if cfg.MonitorInterval <= 0 {
		cfg.MonitorInterval = time.Second
	}
	if cfg.DefaultGrace <= 0 {
		cfg.DefaultGrace = 10 * time.Second
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 30 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	ctx, cancel := context.WithCancel(context.Background())
	o := &Orchestrator{
		cfg:        cfg,
		store:      cfg.Store,
		vnfm:       cfg.VNFM,
		routerHTTP: map[string]*http.Client{},
		scaler:     scaler{holds: map[string]hold{}},
		prober:     prober{state: map[string]*probeState{}},
		changed:    make(chan struct{}, 1),
		log:        cfg.Logger,
		now:        func() time.Time { return time.Now().UTC() },
		cancel:     cancel,
		baseCtx:    ctx,
	}
	o.runner = newRunner(ctx, o.process)
	o.notify = newNotifier(o)
	return o, nil
}

// Start resumes every operation a previous process left unfinished, sweeps
// VIM resources no record owns, and starts the health monitor.
func (o *Orchestrator) Start(ctx context.Context) error {
	removed, err := o.sweep(ctx)
	if err != nil {
		o.log.Warn("sweep at start failed", "err", err)
	}
	if len(removed) > 0 {
		o.log.Warn("removed VIM resources no record owned", "resources", removed)
	}
	if err := o.resyncWiring(ctx); err != nil {
		o.log.Warn("re-rendering the NS instances into OVN failed", "err", err)
	}
	nss, err := o.ListNS(ctx)
	if err != nil {
		return err
	}
	for _, ns := range nss {
		if ns.CurrentOp != "" {
			o.log.Info("resuming operation", "ns", ns.ID, "op", ns.CurrentOp)
		}
		o.runner.kick(ns.ID)
	}
	o.bg.Add(1)
	go func() {
		defer o.bg.Done()
		o.monitor(o.baseCtx)
	}()
	return nil
}

// Close stops background work and waits for it. Running operations stop
// where they are; the next Start resumes them.
func (o *Orchestrator) Close() {
	o.cancel()
	o.runner.wait()
	o.bg.Wait()
	o.notify.wait()
}

// nsChanged wakes whoever waits on o.changed, without blocking.
func (o *Orchestrator) nsChanged() {
	select {
	case o.changed <- struct{}{}:
	default:
	}
}

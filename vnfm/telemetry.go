package vnfm

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"
)

// TelemetryMetric is a monitoring parameter of the instance's VNFD: what to
// sample and how often.
type TelemetryMetric struct {
	ID     string        `json:"id"`                // monitoring-parameter id
	Metric string        `json:"performanceMetric"` // sdk/telemetry.MetricPath's metric
	Period time.Duration `json:"period,omitempty"`  // collection-period; 0 means DefaultTelemetryPeriod
}

// TelemetryTarget is an instance whose telemetry the VNFM collects: gNMI
// at Addr (sdk/telemetry.Port), dialled from the instance's site.
type TelemetryTarget struct {
	Instance string            `json:"instanceId"`
	NS       string            `json:"nsInstanceId"`
	Profile  string            `json:"vnfProfileId"`
	Site     string            `json:"site"`
	Addr     string            `json:"address"` // ip:port
	Metrics  []TelemetryMetric `json:"metrics,omitempty"`
}

func (t TelemetryTarget) equal(u TelemetryTarget) bool {
	return t.Instance == u.Instance && t.NS == u.NS && t.Profile == u.Profile &&
		t.Site == u.Site && t.Addr == u.Addr && slices.Equal(t.Metrics, u.Metrics)
}

// Defaults of TelemetryOptions and of a metric's period.
const (
	DefaultTelemetryPeriod     = 10 * time.Second
	MinTelemetryPeriod         = 100 * time.Millisecond // the gNMI target's minimum interval
	DefaultTelemetryHeartbeat  = time.Second
	DefaultTelemetryBackoff    = 500 * time.Millisecond
	DefaultTelemetryMaxBackoff = 30 * time.Second
)

// TelemetryOptions configure a TelemetryCollector. The zero value is usable.
type TelemetryOptions struct {
	// Heartbeat is the heartbeat_interval of the ON_CHANGE subscriptions
	// (oper-status, slots): a target resends them this often even when
	// nothing changes, so that silence means trouble. 0 means
	// DefaultTelemetryHeartbeat; at least MinTelemetryPeriod.
	Heartbeat time.Duration
	// IdleTimeout ends and redials a stream that delivered nothing for this
	// long: a peer whose host vanished never closes the connection. 0 means
	// three times the longest of the heartbeat and the sample periods, and
	// at least 10 s.
	IdleTimeout time.Duration
	// Backoff and MaxBackoff bound the delay before redialling a target
	// whose stream failed; it doubles on each failure in a row and is
	// jittered. 0 means the defaults.
	Backoff, MaxBackoff time.Duration
	// Dial replaces dialling through the Manager's VIM from the instance's
	// site, for tests and benchmarks that dial plain loopback.
	Dial func(ctx context.Context, site, addr string) (net.Conn, error)
	// Observe, if set, is called for every update ingested, under the
	// instance's lock: it must be quick and must not call the collector.
	// Benchmarks measure gaps and latency with it.
	Observe func(TelemetryUpdate)
}

// TelemetryUpdate is one ingested update, for TelemetryOptions.Observe.
type TelemetryUpdate struct {
	Instance string
	Path     string // relative to the instance's state/, e.g. "slots/available"
	Value    float64
	// Timestamp is the target's: when the leaf last changed. Previous is
	// the one of the update before on the same path (zero for the first);
	// equal ones mean a resend (sample or heartbeat of an unchanged leaf).
	Timestamp, Previous time.Time
	Received            time.Time
}

// TelemetryCollector subscribes over gNMI to every instance it is given and
// keeps their latest values. It is safe for concurrent use.
type TelemetryCollector struct {
	opts TelemetryOptions
	log  *slog.Logger

	// changed wakes Run when SetTargets changed something.
	changed chan struct{}

	mu        sync.RWMutex
	instances map[string]*telemetryInstance
}

// NewTelemetryCollector returns a collector dialling through m's VIM. It
// subscribes once Run runs.
func (m *Manager) NewTelemetryCollector(opts TelemetryOptions) *TelemetryCollector {
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = DefaultTelemetryHeartbeat
	}
	opts.Heartbeat = max(opts.Heartbeat, MinTelemetryPeriod)
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultTelemetryBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultTelemetryMaxBackoff
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.Backoff)
	if opts.Dial == nil {
		opts.Dial = func(ctx context.Context, site, addr string) (net.Conn, error) {
			return m.vim.DialContext(ctx, site, "tcp", addr)
		}
	}
	log := m.log
	if log == nil {
		log = slog.Default()
	}
	return &TelemetryCollector{
		opts:      opts,
		log:       log.With("component", "telemetry"),
		changed:   make(chan struct{}, 1),
		instances: map[string]*telemetryInstance{},
	}
}

// SetTargets replaces the set of instances to collect (level-triggered:
// the orchestrator passes every instance it runs each time). New ones are
// subscribed, removed ones cancelled and forgotten, changed ones
// resubscribed keeping the values still collected.
func (c *TelemetryCollector) SetTargets(ts []TelemetryTarget) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	want := make(map[string]TelemetryTarget, len(ts))
	for _, t := range ts {
		want[t.Instance] = t
	}
	changed := false
	for id := range c.instances {
		if _, ok := want[id]; !ok {
			delete(c.instances, id)
			changed = true
		}
	}
	for id, t := range want {
		inst, ok := c.instances[id]
		switch {
		case !ok:
			c.instances[id] = newTelemetryInstance(t, now)
			changed = true
		case inst.retarget(t):
			changed = true
		}
	}
	if changed {
		select {
		case c.changed <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// telemetrySub is a subscription goroutine Run started.
type telemetrySub struct {
	inst   *telemetryInstance
	gen    uint64
	cancel context.CancelFunc
}

// Run keeps one subscription per target, redialling with back-off, until
// ctx ends; it returns once every subscription has stopped. Call it once.
func (c *TelemetryCollector) Run(ctx context.Context) {
	subs := map[string]telemetrySub{}
	var wg sync.WaitGroup
	defer func() {
		for _, r := range subs {
			r.cancel()
		}
		wg.Wait()
	}()
	for {
		c.reconcile(ctx, subs, &wg)
		select {
		case <-ctx.Done():
			return
		case <-c.changed:
		}
	}
}

// reconcile starts, stops and restarts subscriptions to match the targets.
func (c *TelemetryCollector) reconcile(ctx context.Context, subs map[string]telemetrySub, wg *sync.WaitGroup) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for id, r := range subs {
		if inst, ok := c.instances[id]; !ok || inst != r.inst || inst.generation() != r.gen {
			r.cancel()
			delete(subs, id)
		}
	}
	for id, inst := range c.instances {
		if _, ok := subs[id]; ok {
			continue
		}
		sctx, cancel := context.WithCancel(ctx)
		gen, target := inst.current()
		subs[id] = telemetrySub{inst: inst, gen: gen, cancel: cancel}
		wg.Go(func() { c.follow(sctx, inst, gen, target) })
	}
}

package vnfm

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync/atomic"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// follow keeps a subscription to one target until ctx ends: subscribe,
// ingest, and after a failure redial with exponential back-off and jitter.
func (c *TelemetryCollector) follow(ctx context.Context, inst *telemetryInstance, gen uint64, t TelemetryTarget) {
	log := c.log.With("instance", t.Instance, "addr", t.Addr)
	idle := c.idleTimeout(t)
	delay := c.opts.Backoff
	failures := 0
	for {
		established, err := c.subscribe(ctx, inst, gen, t, idle)
		if ctx.Err() != nil || errors.Is(err, errTelemetryReplaced) {
			return // Run has started the subscription's successor
		}
		inst.streamDown(gen, err)
		if established {
			delay, failures = c.opts.Backoff, 0
		}
		failures++
		// The first failure in a row is news; the rest of an outage is not.
		if failures == 1 {
			log.Warn("telemetry subscription failed", "err", err)
		} else {
			log.Debug("telemetry subscription failed", "err", err, "failures", failures)
		}
		// Equal jitter: between half the delay and the delay, so that a
		// site's instances restarted together do not redial in lockstep.
		wait := delay/2 + rand.N(delay/2+1)
		delay = min(delay*2, c.opts.MaxBackoff)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
	}
}

// minTelemetryIdle keeps a busy VNFM (or a busy target) from redialling
// healthy instances whose messages are merely late.
const minTelemetryIdle = 10 * time.Second

// idleTimeout is how long a stream may stay silent before it is redialled.
func (c *TelemetryCollector) idleTimeout(t TelemetryTarget) time.Duration {
	if c.opts.IdleTimeout > 0 {
		return c.opts.IdleTimeout
	}
	longest := c.opts.Heartbeat
	for _, m := range t.Metrics {
		longest = max(longest, metricPeriod(m))
	}
	return max(3*longest, minTelemetryIdle)
}

// metricPeriod is a metric's collection period with its default and floor.
func metricPeriod(m TelemetryMetric) time.Duration {
	if m.Period <= 0 {
		return DefaultTelemetryPeriod
	}
	return max(m.Period, MinTelemetryPeriod)
}

var (
	errTelemetryIdle     = errors.New("stream idle")
	errTelemetryReplaced = errors.New("target replaced")
)

// subscribe runs one Subscribe STREAM until it fails or ctx ends. It
// reports whether the target answered at all, which resets the back-off.
func (c *TelemetryCollector) subscribe(ctx context.Context, inst *telemetryInstance, gen uint64, t TelemetryTarget, idle time.Duration) (bool, error) {
	// passthrough hands Addr to the dialer untouched: it is an address on
	// the instance's site network, which only the VIM knows how to reach.
	conn, err := grpc.NewClient("passthrough:///"+t.Addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			return c.opts.Dial(ctx, t.Site, addr)
		}),
		// A collector holds a connection per instance and writes on it
		// once: no need to keep a write buffer each, and notifications are
		// a few kilobytes.
		grpc.WithSharedWriteBuffer(true),
		grpc.WithReadBufferSize(16<<10))
	if err != nil {
		return false, fmt.Errorf("telemetry: client for %s: %w", t.Addr, err)
	}
	defer conn.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var idled atomic.Bool
	watchdog := time.AfterFunc(idle, func() { idled.Store(true); cancel() })
	defer watchdog.Stop()

	stream, err := gpb.NewGNMIClient(conn).Subscribe(ctx)
	if err != nil {
		return false, fmt.Errorf("telemetry: subscribe %s: %w", t.Addr, err)
	}
	// Built per attempt rather than kept: a thousand instances' requests
	// would be most of the collector's live memory.
	if err := stream.Send(telemetrySubscribeRequest(t, c.opts.Heartbeat)); err != nil {
		return false, fmt.Errorf("telemetry: subscribe %s: %w", t.Addr, err)
	}
	established := false
	for {
		resp, err := stream.Recv()
		if err != nil {
			if idled.Load() {
				err = fmt.Errorf("%w: nothing for %v", errTelemetryIdle, idle)
			}
			return established, fmt.Errorf("telemetry: stream from %s: %w", t.Addr, err)
		}
		watchdog.Reset(idle)
		now := time.Now()
		if !established {
			established = true
			if inst.streamUp(gen) {
				c.log.Info("telemetry reconnected", "instance", t.Instance, "addr", t.Addr)
			}
		}
		switch r := resp.GetResponse().(type) {
		case *gpb.SubscribeResponse_Update:
			if !inst.ingest(gen, r.Update, now, c.opts.Observe) {
				return true, errTelemetryReplaced
			}
		case *gpb.SubscribeResponse_SyncResponse:
			inst.streamSynced(gen, now)
		case *gpb.SubscribeResponse_Error: // deprecated, but older targets still send it
			return true, fmt.Errorf("telemetry: stream from %s: error %d: %s", t.Addr, r.Error.GetCode(), r.Error.GetMessage())
		}
	}
}

// telemetrySubscribeRequest is the one SubscriptionList of an instance: ON_CHANGE
// with heartbeats for oper-status and the slots, SAMPLE at its period for
// each declared metric (once per path, at the shortest period declared).
func telemetrySubscribeRequest(t TelemetryTarget, heartbeat time.Duration) *gpb.SubscribeRequest {
	onChange := func(rel string) *gpb.Subscription {
		return &gpb.Subscription{Path: relGNMIPath(rel), Mode: gpb.SubscriptionMode_ON_CHANGE,
			HeartbeatInterval: uint64(heartbeat)}
	}
	subs := []*gpb.Subscription{onChange(telemetryOperStatus), onChange(telemetrySlots)}
	periods := map[string]time.Duration{}
	var order []string
	for _, m := range t.Metrics {
		if m.Metric == "" {
			continue // an invalid path would get the whole subscription rejected
		}
		rel := telemetryMetricPath(m.Metric)
		p, seen := periods[rel]
		if !seen {
			order = append(order, rel)
			p = metricPeriod(m)
		}
		periods[rel] = min(p, metricPeriod(m))
	}
	for _, rel := range order {
		subs = append(subs, &gpb.Subscription{Path: relGNMIPath(rel), Mode: gpb.SubscriptionMode_SAMPLE,
			SampleInterval: uint64(periods[rel])})
	}
	return &gpb.SubscribeRequest{Request: &gpb.SubscribeRequest_Subscribe{Subscribe: &gpb.SubscriptionList{
		// The prefix names the instance twice: as the target (the SDK's
		// publisher is named by instance id, so a stale address reaching
		// another instance fails instead of feeding it wrong values) and as
		// the path, which keeps each subscription short.
		Prefix: &gpb.Path{Target: t.Instance, Elem: []*gpb.PathElem{
			{Name: "services"}, {Name: "service", Key: map[string]string{"name": t.Profile}},
			{Name: "instances"}, {Name: "instance", Key: map[string]string{"id": t.Instance}},
			{Name: "state"},
		}},
		Subscription: subs,
		Mode:         gpb.SubscriptionList_STREAM,
		Encoding:     gpb.Encoding_PROTO,
	}}}
}

func relGNMIPath(rel string) *gpb.Path {
	names := strings.Split(rel, "/")
	p := &gpb.Path{Elem: make([]*gpb.PathElem, len(names))}
	for i, n := range names {
		p.Elem[i] = &gpb.PathElem{Name: n}
	}
	return p
}

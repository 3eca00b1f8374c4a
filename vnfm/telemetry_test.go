package vnfm

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"

	sdktelemetry "github.com/stitchnfv/stitch/sdk/telemetry"
)

// fast keeps the tests quick: heartbeats and redials at the target's
// minimum rather than at production pace.
var fastTelemetry = TelemetryOptions{Heartbeat: 100 * time.Millisecond, Backoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}

func TestTelemetryCollectsDeclaredMetricsOnly(t *testing.T) {
	g := newGNMIInstance(t, "backend", "be-0")
	g.set(t, sdktelemetry.OperStatus, sdktelemetry.UP)
	g.set(t, "slots.available", 5)
	g.set(t, "cpu", 0.25)
	g.set(t, "load.requests", uint64(7))
	g.set(t, "secret", 99) // published, but no VNFD parameter asks for it

	driver := &siteVIM{}
	c := runCollector(t, driver, fastTelemetry) // dials through the VIM
	c.SetTargets([]TelemetryTarget{g.targetFor("ns1",
		TelemetryMetric{ID: "cpu-mp", Metric: "cpu", Period: 100 * time.Millisecond},
		TelemetryMetric{ID: "req-mp", Metric: "load.requests", Period: 100 * time.Millisecond},
	)})

	telemetryEventually(t, "both metrics collected", func() bool {
		_, _, ok1 := c.Value("be-0", "cpu-mp")
		_, _, ok2 := c.Value("be-0", "req-mp")
		return ok1 && ok2
	})
	if v, at, _ := c.Value("be-0", "req-mp"); v != 7 || at.IsZero() {
		t.Fatalf("req-mp = %v at %v, want 7 with a time", v, at)
	}
	g.set(t, "cpu", 0.75)
	telemetryEventually(t, "a new sample of cpu", func() bool { v, _, _ := c.Value("be-0", "cpu-mp"); return v == 0.75 })

	r := telemetryReportOf(c, "be-0")
	if !r.Connected || !r.Synced || r.OperStatus != "UP" || r.LastHeard.IsZero() {
		t.Fatalf("report %+v", r)
	}
	if !reportHasPath(r, "slots/available") || !reportHasPath(r, "cpu") || !reportHasPath(r, "load/requests") {
		t.Fatalf("missing values in %+v", r.Values)
	}
	if reportHasPath(r, "secret") {
		t.Fatalf("an undeclared leaf was collected: %+v", r.Values)
	}
	if s := c.Stats(); s.Ignored != 0 || s.Targets != 1 || s.Connected != 1 || s.Updates == 0 {
		t.Fatalf("stats %+v: the target must not even be asked for undeclared leaves", s)
	}
	if _, _, ok := c.Value("be-0", "secret"); ok {
		t.Fatal("Value of an undeclared parameter")
	}
	if _, _, ok := c.Value("nobody", "cpu-mp"); ok {
		t.Fatal("Value of an unknown instance")
	}
	if n := driver.dialled("site-a"); n == 0 {
		t.Fatal("the collector did not dial through the VIM from the instance's site")
	}
}

func TestTelemetryOnChange(t *testing.T) {
	g := newGNMIInstance(t, "backend", "be-0")
	g.set(t, sdktelemetry.OperStatus, sdktelemetry.UP)
	g.set(t, "slots.available", 3)
	// Heartbeats an hour apart: the changes below can only arrive as
	// ON_CHANGE updates.
	opts := fastTelemetry
	opts.Heartbeat = time.Hour
	c := runCollector(t, nil, opts)
	c.SetTargets([]TelemetryTarget{g.targetFor("ns1")})

	telemetryEventually(t, "oper-status UP", func() bool { s, _ := c.OperStatus("be-0"); return s == "UP" })
	g.set(t, sdktelemetry.OperStatus, sdktelemetry.DOWN)
	telemetryEventually(t, "oper-status DOWN", func() bool { s, _ := c.OperStatus("be-0"); return s == "DOWN" })

	g.set(t, "slots.available", 0)
	slots := func() (float64, bool) {
		for _, v := range telemetryReportOf(c, "be-0").Values {
			if v.Path == "slots/available" {
				return v.Value, true
			}
		}
		return 0, false
	}
	telemetryEventually(t, "slots reaching zero", func() bool { v, ok := slots(); return ok && v == 0 })

	// A deleted leaf is gone from the collector too.
	if err := g.Tree.Delete(sdktelemetry.MetricPath("backend", "be-0", "slots.available")); err != nil {
		t.Fatal(err)
	}
	telemetryEventually(t, "the deleted slot leaf gone", func() bool { _, ok := slots(); return !ok })
	if s := c.Stats(); s.Deletes == 0 {
		t.Fatalf("stats %+v: no delete counted", s)
	}
}

func TestTelemetrySilentThenReconnects(t *testing.T) {
	g := newGNMIInstance(t, "backend", "be-0")
	g.set(t, sdktelemetry.OperStatus, sdktelemetry.UP)
	g.set(t, "cpu", 1)
	c := runCollector(t, nil, fastTelemetry)
	c.SetTargets([]TelemetryTarget{g.targetFor("ns1", TelemetryMetric{ID: "cpu", Metric: "cpu", Period: 100 * time.Millisecond})})

	telemetryEventually(t, "connected", func() bool { return telemetryReportOf(c, "be-0").Synced })
	heard := telemetryReportOf(c, "be-0").LastHeard
	if s := c.Silent(heard, 0); len(s) != 0 {
		t.Fatalf("silent right when last heard: %v", s)
	}
	if s := c.Silent(heard.Add(time.Hour), time.Minute); !slices.Equal(s, []string{"be-0"}) {
		t.Fatalf("Silent an hour after the last message, after a minute: %v", s)
	}

	g.stop()
	const after = 300 * time.Millisecond
	telemetryEventually(t, "reported silent once stopped", func() bool {
		return slices.Equal(c.Silent(time.Now(), after), []string{"be-0"})
	})
	if r := telemetryReportOf(c, "be-0"); r.Connected || r.Errors == 0 || r.LastError == "" {
		t.Fatalf("report of a stopped target %+v", r)
	}

	g.start() // same address
	g.set(t, "cpu", 2)
	telemetryEventually(t, "reconnected with the new value", func() bool {
		v, _, _ := c.Value("be-0", "cpu")
		r := telemetryReportOf(c, "be-0")
		return v == 2 && r.Connected && r.Reconnects >= 1
	})
	telemetryEventually(t, "no longer silent", func() bool { return len(c.Silent(time.Now(), after)) == 0 })
}

func TestTelemetryRemoveAndChangeTargets(t *testing.T) {
	a := newGNMIInstance(t, "backend", "be-0")
	b := newGNMIInstance(t, "backend", "be-1")
	for _, g := range []*gnmiInstance{a, b} {
		g.set(t, sdktelemetry.OperStatus, sdktelemetry.UP)
		g.set(t, "cpu", 1)
		g.set(t, "mem", 2)
	}
	cpu := TelemetryMetric{ID: "cpu", Metric: "cpu", Period: 100 * time.Millisecond}
	mem := TelemetryMetric{ID: "mem", Metric: "mem", Period: 100 * time.Millisecond}
	c := runCollector(t, nil, fastTelemetry)
	c.SetTargets([]TelemetryTarget{a.targetFor("ns1", cpu), b.targetFor("ns1", cpu)})
	telemetryEventually(t, "both streams open", func() bool {
		return a.target.Stats().ActiveStreams == 1 && b.target.Stats().ActiveStreams == 1
	})

	c.SetTargets([]TelemetryTarget{a.targetFor("ns1", cpu)})
	telemetryEventually(t, "the removed target's stream gone", func() bool { return b.target.Stats().ActiveStreams == 0 })
	if got := c.Snapshot(""); len(got) != 1 || got[0].Instance != "be-0" {
		t.Fatalf("snapshot after removal %+v", got)
	}
	if n := a.target.Stats().ActiveStreams; n != 1 {
		t.Fatalf("the remaining target has %d streams", n)
	}

	// A changed target is resubscribed: mem is now collected, cpu dropped.
	c.SetTargets([]TelemetryTarget{a.targetFor("ns1", mem)})
	telemetryEventually(t, "mem collected after the change", func() bool { _, _, ok := c.Value("be-0", "mem"); return ok })
	if r := telemetryReportOf(c, "be-0"); reportHasPath(r, "cpu") {
		t.Fatalf("cpu still kept after it was undeclared: %+v", r.Values)
	}
	telemetryEventually(t, "one stream after resubscribing", func() bool { return a.target.Stats().ActiveStreams == 1 })

	c.SetTargets(nil)
	telemetryEventually(t, "all streams gone", func() bool { return a.target.Stats().ActiveStreams == 0 })
	if s := c.Stats(); s.Targets != 0 {
		t.Fatalf("stats after removing everything %+v", s)
	}
}

func TestTelemetryMetricAveragesFreshValues(t *testing.T) {
	load := TelemetryMetric{ID: "load-mp", Metric: "load", Period: 100 * time.Millisecond}
	c := runCollector(t, nil, fastTelemetry)
	var targets []TelemetryTarget
	add := func(ns, profile, id string, v float64) *gnmiInstance {
		g := newGNMIInstance(t, profile, id)
		g.set(t, "load", v)
		targets = append(targets, g.targetFor(ns, load))
		return g
	}
	add("ns1", "be", "be-0", 10)
	add("ns1", "be", "be-1", 20)
	stale := add("ns1", "be", "be-2", 60)
	add("ns1", "fe", "fe-0", 1000) // another profile
	add("ns2", "be", "be-9", 500)  // another NS
	c.SetTargets(targets)

	ctx := context.Background()
	telemetryEventually(t, "mean over ns1/be is 30", func() bool { v, ok := c.Metric(ctx, "ns1", "be", "load-mp"); return ok && v == 30 })
	if v, ok := c.Metric(ctx, "ns1", "fe", "load-mp"); !ok || v != 1000 {
		t.Fatalf("ns1/fe = %v, %v", v, ok)
	}
	if _, ok := c.Metric(ctx, "ns1", "be", "nothing"); ok {
		t.Fatal("a metric nothing reports has a value")
	}
	// An instance that stops reporting drops out of the mean once its value
	// is older than three periods.
	stale.stop()
	telemetryEventually(t, "mean without the silent instance", func() bool { v, ok := c.Metric(ctx, "ns1", "be", "load-mp"); return ok && v == 15 })
}

func TestTelemetryBadTargetsDoNotDisturbOthers(t *testing.T) {
	good := newGNMIInstance(t, "be", "be-0")
	good.set(t, "load", 1)
	load := TelemetryMetric{ID: "load", Metric: "load", Period: 100 * time.Millisecond}

	// Nothing listens: connection refused.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := lis.Addr().String()
	lis.Close()
	// Something that is not gNMI: accepts and talks nonsense.
	junk, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { junk.Close() })
	go func() {
		for {
			conn, err := junk.Accept()
			if err != nil {
				return
			}
			_, _ = conn.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			conn.Close()
		}
	}()
	// A gNMI target that is another instance (a stale address).
	other := newGNMIInstance(t, "be", "be-7")
	other.set(t, "load", 1000)
	// A metric whose path the target refuses.
	invalid := newGNMIInstance(t, "be", "be-3")

	c := runCollector(t, nil, fastTelemetry)
	wrong := other.targetFor("ns1", load)
	wrong.Instance = "be-2"
	c.SetTargets([]TelemetryTarget{
		good.targetFor("ns1", load),
		{Instance: "be-1", NS: "ns1", Profile: "be", Addr: refused, Metrics: []TelemetryMetric{load}},
		wrong,
		invalid.targetFor("ns1", TelemetryMetric{ID: "bad", Metric: "a..b"}),
		{Instance: "be-4", NS: "ns1", Profile: "be", Addr: junk.Addr().String(), Metrics: []TelemetryMetric{load}},
	})
	telemetryEventually(t, "every bad target failed at least twice", func() bool {
		for _, r := range c.Snapshot("ns1") {
			if r.Instance != "be-0" && r.Errors < 2 {
				return false
			}
		}
		return true
	})
	for v := 2; v <= 4; v++ {
		good.set(t, "load", v)
		telemetryEventually(t, "the good target's new value", func() bool { got, _, _ := c.Value("be-0", "load"); return got == float64(v) })
	}
	if v, ok := c.Metric(context.Background(), "ns1", "be", "load"); !ok || v != 4 {
		t.Fatalf("mean %v, %v: only the good target has a value", v, ok)
	}
	if r := telemetryReportOf(c, "be-0"); !r.Connected || r.Errors != 0 || r.Reconnects != 0 {
		t.Fatalf("the good target was disturbed: %+v", r)
	}
	for _, r := range c.Snapshot("ns1") {
		if r.Instance != "be-0" && (r.Connected || r.LastError == "" || len(r.Values) != 0) {
			t.Fatalf("bad target %s: %+v", r.Instance, r)
		}
	}
	// Never heard since targeted: silent, counted from the targeting.
	telemetryEventually(t, "the bad ones silent", func() bool {
		return slices.Equal(c.Silent(time.Now(), 200*time.Millisecond), []string{"be-1", "be-2", "be-3", "be-4"})
	})
}

// hangingGNMI accepts subscriptions and never answers, like a peer whose
// process is stopped while its kernel keeps the connection.
type hangingGNMI struct {
	gpb.UnimplementedGNMIServer
	subscribes atomic.Int64
}

func (h *hangingGNMI) Subscribe(stream gpb.GNMI_SubscribeServer) error {
	h.subscribes.Add(1)
	<-stream.Context().Done()
	return stream.Context().Err()
}

func TestTelemetryIdleStreamIsRedialled(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, hang := grpc.NewServer(), &hangingGNMI{}
	gpb.RegisterGNMIServer(srv, hang)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	opts := fastTelemetry
	opts.IdleTimeout = 100 * time.Millisecond
	c := runCollector(t, nil, opts)
	c.SetTargets([]TelemetryTarget{{Instance: "be-0", NS: "ns1", Profile: "be", Addr: lis.Addr().String()}})
	telemetryEventually(t, "redialled twice", func() bool { return hang.subscribes.Load() >= 3 })
	r := telemetryReportOf(c, "be-0")
	if r.Errors < 2 || !strings.Contains(r.LastError, "stream idle") || r.Connected {
		t.Fatalf("report %+v", r)
	}
}

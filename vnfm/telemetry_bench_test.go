package vnfm

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	sdktelemetry "github.com/stitchnfv/stitch/sdk/telemetry"
)

// latencyHist counts durations in 1 ms buckets up to 10 s (the last one
// holds everything beyond). Observe runs on every subscription goroutine,
// hence atomics.
type latencyHist struct{ buckets [10_001]atomic.Uint64 }

func (h *latencyHist) add(d time.Duration) {
	i := min(max(d/time.Millisecond, 0), time.Duration(len(h.buckets)-1))
	h.buckets[i].Add(1)
}

// quantile returns the upper bound of the bucket holding quantile q.
func (h *latencyHist) quantile(q float64) time.Duration {
	var total uint64
	for i := range h.buckets {
		total += h.buckets[i].Load()
	}
	if total == 0 {
		return 0
	}
	rank := uint64(q * float64(total))
	var seen uint64
	for i := range h.buckets {
		seen += h.buckets[i].Load()
		if seen > rank {
			return time.Duration(i+1) * time.Millisecond
		}
	}
	return time.Duration(len(h.buckets)) * time.Millisecond
}

func (h *latencyHist) count() uint64 {
	var total uint64
	for i := range h.buckets {
		total += h.buckets[i].Load()
	}
	return total
}

// ingestProbe is the benchmark's Observe hook: per-path sample counts and
// timestamp gaps, and the latencies, during the measurement window only.
type ingestProbe struct {
	interval  time.Duration
	leaves    int
	instances map[string]int // read-only once the collector runs
	measuring atomic.Bool

	perPath  []atomic.Uint32 // samples per instance×leaf in the window
	gaps     atomic.Uint64   // consecutive timestamps more than 1.5 intervals apart
	repeats  atomic.Uint64   // a sample with the previous one's timestamp
	maxGap   atomic.Int64
	sample   latencyHist // receive − timestamp of samples
	onChange latencyHist // receive − change of slots/available
}

func (p *ingestProbe) observe(u TelemetryUpdate) {
	if !p.measuring.Load() {
		return
	}
	if u.Path == "slots/available" {
		if !u.Previous.IsZero() && !u.Timestamp.Equal(u.Previous) { // a change, not a heartbeat
			p.onChange.add(u.Received.Sub(u.Timestamp))
		}
		return
	}
	if !strings.HasPrefix(u.Path, "bench/m") {
		return
	}
	leaf, _ := strconv.Atoi(u.Path[len("bench/m"):])
	p.perPath[p.instances[u.Instance]*p.leaves+leaf].Add(1)
	p.sample.add(u.Received.Sub(u.Timestamp))
	if u.Previous.IsZero() {
		return
	}
	gap := u.Timestamp.Sub(u.Previous)
	if gap == 0 {
		p.repeats.Add(1)
	}
	if gap > p.interval*3/2 {
		p.gaps.Add(1)
	}
	for old := p.maxGap.Load(); int64(gap) > old && !p.maxGap.CompareAndSwap(old, int64(gap)); old = p.maxGap.Load() {
	}
}

// processCPU is this process's user+system CPU time.
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU reads another process's CPU time from /proc (USER_HZ is 100 on
// every Linux stitch runs on).
func procCPU(tb testing.TB, pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the command name, which may contain spaces: state is
	// field 3, utime 14 and stime 15.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// startBenchFleet runs the simulated instances in a child process and returns
// their addresses.
func startBenchFleet(b *testing.B, fleet benchFleet) (*exec.Cmd, []string) {
	spec, _ := json.Marshal(fleet)
	cmd := exec.Command(os.Args[0], "-test.run=^TestTelemetryBenchTargets$", "-test.count=1")
	cmd.Env = append(os.Environ(), benchChildEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // closed when we exit: the child follows
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if addrs, ok := strings.CutPrefix(sc.Text(), benchTargetsLine); ok {
			go func() { _, _ = bufio.NewReader(stdout).WriteTo(os.Stdout) }()
			return cmd, strings.Fields(addrs)
		}
	}
	b.Fatalf("the fleet did not start: %v", sc.Err())
	return nil, nil
}

// BenchmarkTelemetryIngest: one collector subscribed to 1,000 simulated
// instances in a child process, 50 leaves each sampled every second, for
// ten seconds. Run it with -benchtime 1x (one run is the whole figure) and
// -cpu 1 (the collector on one core).
func BenchmarkTelemetryIngest(b *testing.B) {
	fleet := benchFleet{Instances: 1000, Leaves: 50, Interval: time.Second, Feed: 250 * time.Millisecond, OnChange: 10 * time.Millisecond}
	const window = 10 * time.Second
	raiseNoFile(b, uint64(fleet.Instances+200))

	for b.Loop() {
		cmd, addrs := startBenchFleet(b, fleet)
		if len(addrs) != fleet.Instances {
			b.Fatalf("%d addresses", len(addrs))
		}
		probe := &ingestProbe{interval: fleet.Interval, leaves: fleet.Leaves, instances: map[string]int{},
			perPath: make([]atomic.Uint32, fleet.Instances*fleet.Leaves)}
		metrics := make([]TelemetryMetric, fleet.Leaves)
		for j := range metrics {
			metrics[j] = TelemetryMetric{ID: fmt.Sprintf("m%02d", j), Metric: benchLeafMetric(j), Period: fleet.Interval}
		}
		targets := make([]TelemetryTarget, len(addrs))
		for i, addr := range addrs {
			id := benchInstanceID(i)
			probe.instances[id] = i
			targets[i] = TelemetryTarget{Instance: id, NS: "ns-bench", Profile: benchProfile, Addr: addr, Metrics: metrics}
		}
		c := runCollector(b, nil, TelemetryOptions{Dial: loopbackDial, Observe: probe.observe})
		c.SetTargets(targets)
		telemetryEventually(b, "every instance connected", func() bool { return c.Stats().Connected == fleet.Instances })
		// Let the initial snapshots and the first samples pass.
		time.Sleep(2 * fleet.Interval)

		s0, cpu0, child0, t0 := c.Stats(), processCPU(b), procCPU(b, cmd.Process.Pid), time.Now()
		probe.measuring.Store(true)
		time.Sleep(window)
		probe.measuring.Store(false)
		s1, cpu1, child1, wall := c.Stats(), processCPU(b), procCPU(b, cmd.Process.Pid), time.Since(t0)

		var ms runtime.MemStats
		runtime.GC() // live memory, not garbage awaiting collection
		runtime.ReadMemStats(&ms)
		counts := make([]uint32, len(probe.perPath))
		for i := range probe.perPath {
			counts[i] = probe.perPath[i].Load()
		}
		offered := float64(fleet.Instances*fleet.Leaves) * wall.Seconds() / fleet.Interval.Seconds()
		sampled := probe.sample.count()
		missing := 0
		for _, n := range counts {
			if n == 0 {
				missing++
			}
		}
		rate := float64(s1.Updates-s0.Updates) / wall.Seconds()
		b.ReportMetric(rate, "updates/s")
		b.ReportMetric(float64(sampled)/wall.Seconds(), "samples/s")
		b.ReportMetric(100*(cpu1-cpu0).Seconds()/wall.Seconds(), "collector-cpu%")
		b.ReportMetric(100*(child1-child0).Seconds()/wall.Seconds(), "targets-cpu%")
		b.ReportMetric(float64(probe.gaps.Load()), "gaps")
		b.ReportMetric(float64(probe.sample.quantile(0.50).Milliseconds()), "sample-p50-ms")
		b.ReportMetric(float64(probe.sample.quantile(0.99).Milliseconds()), "sample-p99-ms")
		b.ReportMetric(float64(probe.onChange.quantile(0.50).Milliseconds()), "onchange-p50-ms")
		b.ReportMetric(float64(probe.onChange.quantile(0.99).Milliseconds()), "onchange-p99-ms")
		b.Logf("%d instances × %d leaves every %v for %v, GOMAXPROCS %d:", fleet.Instances, fleet.Leaves, fleet.Interval, wall.Round(time.Millisecond), runtime.GOMAXPROCS(0))
		b.Logf("  updates ingested %.0f/s (all kinds: %d notifications/s); samples of the %d paths %.0f/s, %.0f offered",
			rate, int(float64(s1.Notifications-s0.Notifications)/wall.Seconds()), len(counts), float64(sampled)/wall.Seconds(), offered/wall.Seconds())
		b.Logf("  per path in the window: min %d max %d samples, %d paths with none; gaps > 1.5×%v: %d (largest %v), repeated timestamps %d",
			slices.Min(counts), slices.Max(counts), missing, fleet.Interval, probe.gaps.Load(), time.Duration(probe.maxGap.Load()), probe.repeats.Load())
		b.Logf("  collector CPU %.1f%% of a core; targets (child process) %.1f%%; live heap %d MiB, from the OS %d MiB",
			100*(cpu1-cpu0).Seconds()/wall.Seconds(), 100*(child1-child0).Seconds()/wall.Seconds(), ms.HeapAlloc>>20, ms.Sys>>20)
		b.Logf("  receive − timestamp of samples p50 %v p99 %v (the timestamp is the leaf's last change, up to %v before the sample)",
			probe.sample.quantile(0.5), probe.sample.quantile(0.99), fleet.Feed)
		b.Logf("  ON_CHANGE slots/available under this load: %d changes, p50 %v p99 %v",
			probe.onChange.count(), probe.onChange.quantile(0.5), probe.onChange.quantile(0.99))
		b.Logf("  stream errors %d, reconnects %d, coalesced %d, ignored %d", s1.Errors-s0.Errors, s1.Reconnects-s0.Reconnects, s1.Coalesced-s0.Coalesced, s1.Ignored-s0.Ignored)
	}
}

// BenchmarkTelemetryOnChange: a leaf changed in an idle target until the
// collector has it, one change per iteration (run with -benchtime 2000x).
func BenchmarkTelemetryOnChange(b *testing.B) {
	g := newGNMIInstance(b, "backend", "be-0")
	g.set(b, sdktelemetry.OperStatus, sdktelemetry.UP)
	g.set(b, "slots.available", 0)
	seen := make(chan TelemetryUpdate, 16)
	c := runCollector(b, nil, TelemetryOptions{Dial: loopbackDial, Observe: func(u TelemetryUpdate) {
		if u.Path == "slots/available" && !u.Timestamp.Equal(u.Previous) {
			select {
			case seen <- u:
			default:
			}
		}
	}})
	c.SetTargets([]TelemetryTarget{g.targetFor("ns1")})
	telemetryEventually(b, "synced", func() bool { return telemetryReportOf(c, "be-0").Synced })
	for len(seen) > 0 {
		<-seen
	}
	var lat []time.Duration
	n := 0
	for b.Loop() {
		n++
		g.set(b, "slots.available", n)
		for u := range seen {
			if u.Value == float64(n) {
				lat = append(lat, u.Received.Sub(u.Timestamp))
				break
			}
		}
	}
	slices.Sort(lat)
	q := func(f float64) time.Duration { return lat[min(int(f*float64(len(lat))), len(lat)-1)] }
	b.ReportMetric(float64(q(0.5).Microseconds()), "p50-µs")
	b.ReportMetric(float64(q(0.99).Microseconds()), "p99-µs")
	b.Logf("ON_CHANGE, idle target: %d changes, p50 %v p99 %v max %v", len(lat), q(0.5), q(0.99), lat[len(lat)-1])
}

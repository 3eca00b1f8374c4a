package vnfm

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	sdktelemetry "github.com/stitchnfv/stitch/sdk/telemetry"
	"github.com/stitchnfv/stitch/telemetry"
	"github.com/stitchnfv/stitch/telemetry/gnmi"
)

// The ingest benchmark runs its simulated instances in a child process
// (this test binary, re-executed) so that the benchmark process's CPU time
// is the collector's own.
const (
	benchChildEnv    = "STITCH_TELEMETRY_BENCH_CHILD" // JSON benchFleet
	benchTargetsLine = "TELEMETRY-TARGETS "
	benchProfile     = "svc"
)

// benchFleet describes the simulated instances.
type benchFleet struct {
	Instances int           `json:"instances"`
	Leaves    int           `json:"leaves"`
	Interval  time.Duration `json:"interval"` // the SAMPLE period the collector asks for
	// Feed is how often every leaf changes. Samples carry the time the leaf
	// last changed, so leaves must change more often than they are sampled
	// for consecutive samples' timestamps to be one interval apart.
	Feed time.Duration `json:"feed"`
	// OnChange is how often one instance's slots/available changes (round
	// robin), for ON_CHANGE latency under load.
	OnChange time.Duration `json:"onChange"`
}

func benchInstanceID(i int) string { return fmt.Sprintf("i%04d", i) }
func benchLeafMetric(j int) string { return fmt.Sprintf("bench.m%02d", j) }
func benchLeafPath(j int) string   { return fmt.Sprintf("bench/m%02d", j) }
func benchSlotsPath(id string) string {
	return sdktelemetry.MetricPath(benchProfile, id, "slots.available")
}

// raiseNoFile lifts the soft open-file limit to the hard one: a thousand
// instances are a thousand connections on each side.
func raiseNoFile(tb testing.TB, need uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		tb.Fatal(err)
	}
	if lim.Cur >= need {
		return
	}
	lim.Cur = min(max(need, lim.Cur), lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < need {
		tb.Skipf("need %d open files, the limit is %d (%v)", need, lim.Cur, err)
	}
}

// TestTelemetryBenchTargets is the benchmark's child, not a test: it serves
// the simulated instances, prints their addresses and feeds their trees
// until its stdin closes.
func TestTelemetryBenchTargets(t *testing.T) {
	spec := os.Getenv(benchChildEnv) // set: TestMain runs this only as the child
	var fleet benchFleet
	if err := json.Unmarshal([]byte(spec), &fleet); err != nil {
		t.Fatal(err)
	}
	raiseNoFile(t, uint64(3*fleet.Instances+100))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); cancel() }() // the parent is gone

	trees := make([]*telemetry.Tree, fleet.Instances)
	paths := make([][]string, fleet.Instances)
	addrs := make([]string, fleet.Instances)
	log := slog.New(slog.DiscardHandler)
	for i := range trees {
		id := benchInstanceID(i)
		trees[i] = telemetry.NewTree()
		for j := range fleet.Leaves {
			paths[i] = append(paths[i], sdktelemetry.MetricPath(benchProfile, id, benchLeafMetric(j)))
		}
		if err := trees[i].Apply(telemetry.SetOp(sdktelemetry.MetricPath(benchProfile, id, sdktelemetry.OperStatus), sdktelemetry.UP),
			telemetry.SetOp(benchSlotsPath(id), 0)); err != nil {
			t.Fatal(err)
		}
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = lis.Addr().String()
		target := gnmi.NewTarget(trees[i], gnmi.Options{Name: id, Logger: log})
		go func() { _ = target.Serve(ctx, lis) }()
	}
	feed := func(n int) {
		for i, tree := range trees {
			ops := make([]telemetry.Op, len(paths[i]))
			for j, p := range paths[i] {
				ops[j] = telemetry.SetOp(p, float64(n))
			}
			if err := tree.Apply(ops...); err != nil {
				t.Error(err)
				return
			}
		}
	}
	feed(0)
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(out, "%s%s\n", benchTargetsLine, strings.Join(addrs, " "))
	if err := out.Flush(); err != nil {
		t.Fatal(err)
	}

	go func() {
		tick := time.NewTicker(fleet.OnChange)
		defer tick.Stop()
		for n := 1; ; n++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			i := n % len(trees)
			_ = trees[i].Set(benchSlotsPath(benchInstanceID(i)), n)
		}
	}()
	tick := time.NewTicker(fleet.Feed)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		feed(n)
	}
}

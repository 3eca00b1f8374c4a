package daemon

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/nfvo"
)

// BenchmarkInstantiateComplexService measures the wall time from the
// instantiate call to all 7 instances of the complex example healthy, split
// into VIM work, programs starting, and the orchestrator's own share.
//
//	sudo go test -run NONE -bench InstantiateComplex -benchtime 10x ./internal/daemon/
func BenchmarkInstantiateComplexService(b *testing.B) {
	cfg := testConfig(b)
	_, c := startInProcess(b, cfg)
	ctx := context.Background()
	onboardExamples(b, c)
	var total, vim, wait, overhead float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ns, err := c.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "complex-service", Name: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		op, err := c.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
		done := mustComplete(b, c, op, err)
		total += done.Stats.DurationMs
		vim += done.Stats.VimMs
		wait += done.Stats.InstanceWaitMs
		overhead += done.Stats.OverheadMs
		b.StopTimer()
		term, err := c.Terminate(ctx, ns.ID, nfvo.TerminateRequest{GracefulTerminationTimeout: 1})
		mustComplete(b, c, term, err)
		if err := c.DeleteNS(ctx, ns.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(total/n, "ms/instantiate")
	b.ReportMetric(vim/n, "vim-ms")
	b.ReportMetric(wait/n, "program-ms")
	b.ReportMetric(overhead/n, "orchestrator-ms")
	b.ReportMetric(100*overhead/total, "orchestrator-%")
}

// BenchmarkInstantiateToTrafficOVN measures, on the OVN fabric with the
// two-site lab's nodes as chassis (20 ms WAN), the time from the
// instantiate call until a request through the service access point
// crosses the whole chain (OVN convergence included), and how much of it
// came after the last instance was healthy. Then it measures how long a
// change of the SAP's balancer takes to reach both chassis, the way OVN
// operators read it (nb_cfg_timestamp to hv_cfg_timestamp).
//
//	sudo go test -run NONE -bench InstantiateToTrafficOVN -benchtime 10x ./internal/daemon/
func BenchmarkInstantiateToTrafficOVN(b *testing.B) {
	cfg := ovnTestConfig(b)
	labSites(b, &cfg)
	d, c := startInProcess(b, cfg)
	ctx := context.Background()
	onboardExamples(b, c)
	var traffic, afterHealthy, convergence, wall []time.Duration
	for i := 0; i < b.N; i++ {
		ns, err := c.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "complex-service", Name: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		op, err := c.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
		if err != nil {
			b.Fatal(err)
		}
		first, err := untilServed(d, start, 30*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		mustComplete(b, c, op, nil)
		ns, _ = c.GetNS(ctx, ns.ID)
		var lastHealthy time.Time
		for _, v := range ns.Vnfcs {
			if v.HealthyAt.After(lastHealthy) {
				lastHealthy = v.HealthyAt
			}
		}
		traffic = append(traffic, first)
		afterHealthy = append(afterHealthy, start.Add(first).Sub(lastHealthy))

		// A balancer update (one more backend) and its way to the chassis.
		lb := nbctl(b, d, "--bare", "--columns=_uuid", "find", "Load_Balancer", "external_ids:stitch.ns-instance="+ns.ID)
		nbctl(b, d, "set", "Load_Balancer", lb, `vips:"10.10.0.100:8080"="10.10.0.16:8080,10.10.0.99:8080"`)
		conv, err := d.OVN.WaitHypervisors(ctx)
		if err != nil {
			b.Fatal(err)
		}
		convergence = append(convergence, conv.Hypervisors())
		wall = append(wall, conv.Elapsed)

		term, err := c.Terminate(ctx, ns.ID, nfvo.TerminateRequest{GracefulTerminationTimeout: 1})
		mustComplete(b, c, term, err)
		if err := c.DeleteNS(ctx, ns.ID); err != nil {
			b.Fatal(err)
		}
	}
	report := func(ds []time.Duration, unit string) {
		slices.Sort(ds)
		b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, unit+"-p50-ms")
		b.ReportMetric(float64(ds[len(ds)-1].Microseconds())/1000, unit+"-max-ms")
	}
	report(traffic, "to-traffic")
	report(afterHealthy, "after-healthy")
	report(convergence, "hv-cfg")
	report(wall, "hv-wait")
}

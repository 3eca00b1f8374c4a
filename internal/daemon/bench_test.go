package daemon

import (
	"context"
	"testing"

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

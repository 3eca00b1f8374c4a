package daemon

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/vim/local"
)

// TestCrashMidInstantiateRecovers SIGKILLs the daemon while an
// instantiation is half done, restarts it, and checks that the operation
// completes with every instance running exactly once, and that terminate
// then leaves nothing behind.
func TestCrashMidInstantiateRecovers(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	p, c := startProcess(t, cfg)
	onboardExamples(t, c)
	ns, err := c.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "complex-service", Name: "crash"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := c.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	// Kill once the database layer is up and the back ends are being
	// created: the middle of the operation.
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := c.GetNS(ctx, ns.ID)
		if err == nil && len(vnfcsOf(got, "backend")) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("instantiation never reached the back ends")
		}
		time.Sleep(2 * time.Millisecond)
	}
	before, err := c.GetOp(ctx, op.ID)
	if err != nil || before.OperationState.Final() {
		t.Fatalf("operation before the kill: %s, %v; want it running", before.OperationState, err)
	}
	p.kill()
	if _, err := c.GetOp(ctx, op.ID); err == nil {
		t.Fatal("daemon still answers after SIGKILL")
	}

	p2, c2 := startProcess(t, cfg)
	c = c2
	done := waitOp(t, c, op.ID, 90*time.Second)
	if done.OperationState != nfvo.OpCompleted {
		t.Fatalf("after restart the operation ended %s: %+v\n%+v", done.OperationState, done.Error, done.Steps)
	}
	got, err := c.GetNS(ctx, ns.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Vnfcs) != 7 {
		t.Fatalf("%d instances after recovery, want 7", len(got.Vnfcs))
	}
	for _, v := range got.Vnfcs {
		if pids := processesWithEnv("STITCH_INSTANCE_ID", v.ID); v.State != nfvo.VnfcHealthy || len(pids) != 1 {
			t.Errorf("%s: %s with processes %v, want HEALTHY with exactly one", v.ID, v.State, pids)
		}
	}
	if pids := processesWithEnv("STITCH_NS_INSTANCE", ns.ID); len(pids) != 7 {
		t.Errorf("%d processes carry the NS, want 7 (an orphan or a duplicate is a leak)", len(pids))
	}

	term, err := c.Terminate(ctx, ns.ID, nfvo.TerminateRequest{GracefulTerminationTimeout: 2})
	mustComplete(t, c, term, err)
	if pids := processesWithEnv("STITCH_NS_INSTANCE", ns.ID); len(pids) != 0 {
		t.Fatalf("processes left after terminate: %v", pids)
	}
	// Stop the daemon and ask a fresh driver on its state whether anything
	// leaked.
	p2.stop(t)
	drv, err := local.New(ctx, vimConfig(cfg, slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	if leaks, err := drv.Leaks(ctx); err != nil || len(leaks) != 0 {
		t.Fatalf("leaks: %v, %v", leaks, err)
	}
}

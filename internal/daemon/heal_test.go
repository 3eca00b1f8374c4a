package daemon

import (
	"context"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/vnfm"
)

// TestHealOnFailedHealthChecks: an instance that still runs but stops
// answering (SIGSTOP: its socket still accepts connections, nothing
// answers) fails its health check failure-threshold times in a row and
// goes silent on telemetry; it is marked FAILED with the reason, the NS
// says DEGRADED, and an automatic heal replaces it.
func TestHealOnFailedHealthChecks(t *testing.T) {
	cfg := testConfig(t)
	_, c := startInProcess(t, cfg)
	ctx := context.Background()
	onboardExamples(t, c)
	ns, err := c.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "microservices", Name: "heal"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := c.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
	mustComplete(t, c, op, err)
	ns, _ = c.GetNS(ctx, ns.ID)
	var victim nfvo.Vnfc
	for _, v := range ns.Vnfcs {
		if v.Profile == "backend" {
			victim = v
		}
	}
	// The VNFM follows it over gNMI: connected, UP, its declared metrics.
	var report vnfm.TelemetryReport
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		reports, err := c.TelemetryReports(ctx, ns.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reports {
			if r.Instance == victim.ID {
				report = r
			}
		}
		if report.Connected && report.OperStatus == "UP" && hasValue(report, "requests") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("telemetry of %s never complete: %+v", victim.ID, report)
		}
	}
	pids := processesWithEnv("STITCH_INSTANCE_ID", victim.ID)
	if len(pids) != 1 {
		t.Fatalf("processes of %s: %v", victim.ID, pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pids[0], syscall.SIGKILL) })
	stopped := time.Now()

	var heal nfvo.LcmOpOcc
	for deadline := time.Now().Add(60 * time.Second); heal.ID == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ops, err := c.ListOps(ctx, ns.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range ops {
			if op.LcmOperationType == nfvo.OpHeal && op.IsAutomaticInvocation {
				heal = op
			}
		}
		if heal.ID == "" {
			if cur, err := c.GetNS(ctx, ns.ID); err == nil && cur.Status != "HEALTHY" && cur.Status != "DEGRADED" && cur.Status != "PROCESSING" {
				t.Fatalf("NS status %q while an instance fails", cur.Status)
			}
		}
	}
	if heal.ID == "" {
		t.Fatal("no automatic heal within 60 s of the instance hanging")
	}
	t.Logf("hung → heal started %s later: %q", heal.StartTime.Sub(stopped).Round(time.Millisecond), heal.Reason)
	// Whichever sees it first: the health checks (3 × 2 s) or the
	// telemetry's silence (5 s without even a heartbeat).
	if !(strings.Contains(heal.Reason, "failed its health check 3 times in a row") || strings.Contains(heal.Reason, "silent on telemetry")) ||
		!strings.Contains(heal.Reason, victim.ID) {
		t.Errorf("heal reason %q", heal.Reason)
	}
	mustComplete(t, c, heal, nil)
	ns, _ = c.GetNS(ctx, ns.ID)
	if ns.Status != "HEALTHY" {
		t.Errorf("NS status after the heal: %q", ns.Status)
	}
	for _, v := range ns.Vnfcs {
		if v.ID == victim.ID {
			t.Errorf("the hung instance %s is still there (%s)", v.ID, v.State)
		}
	}
	if pids := processesWithEnv("STITCH_INSTANCE_ID", victim.ID); len(pids) != 0 {
		t.Errorf("the hung instance's process is still there: %v", pids)
	}
}

func hasValue(r vnfm.TelemetryReport, id string) bool {
	for _, v := range r.Values {
		if slices.Contains(v.IDs, id) {
			return true
		}
	}
	return false
}

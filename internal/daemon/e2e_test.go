package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/nfvo/api"
)

func vnfcsOf(ns nfvo.NsInstance, profile string) []nfvo.Vnfc {
	var out []nfvo.Vnfc
	for _, v := range ns.Vnfcs {
		if v.Profile == profile {
			out = append(out, v)
		}
	}
	return out
}

// visit sends one request through the service's entry (the firewall) and
// returns the trace of hops that answered.
func visit(t testing.TB, d *Daemon, ns nfvo.NsInstance, path string) ([]string, error) {
	t.Helper()
	fw := vnfcsOf(ns, "fw")
	if len(fw) == 0 {
		t.Fatal("no firewall instance")
	}
	return get(siteHTTP(d, "edge"), fmt.Sprintf("http://%s:8080%s", fw[0].Addresses["data"], path))
}

func hopsByRole(trace []string) map[string]string {
	out := map[string]string{}
	for _, h := range trace {
		role, id, _ := strings.Cut(h, ":")
		out[role] = id
	}
	return out
}

func TestComplexServiceLifecycle(t *testing.T) {
	cfg := testConfig(t)
	d, c := startInProcess(t, cfg)
	ctx := context.Background()
	onboardExamples(t, c)

	ns, err := c.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "complex-service", Name: "e2e"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := c.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
	done := mustComplete(t, c, op, err)
	t.Logf("instantiate: %+v", *done.Stats)

	ns, err = c.GetNS(ctx, ns.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ns.State != nfvo.NsInstantiated || len(ns.Vnfcs) != 7 {
		t.Fatalf("state %s with %d instances, want INSTANTIATED with 7", ns.State, len(ns.Vnfcs))
	}
	for _, v := range ns.Vnfcs {
		wantSite := map[string]string{"fw": "edge", "lb": "edge", "web": "edge", "backend": "core", "kvdb": "core"}[v.Profile]
		if v.State != nfvo.VnfcHealthy || v.Site != wantSite || !strings.Contains(v.Placement, "site "+wantSite) {
			t.Errorf("%s: state %s on %s (%q), want HEALTHY on %s", v.ID, v.State, v.Site, v.Placement, wantSite)
		}
	}
	if n := len(vnfcsOf(ns, "backend")); n != 3 {
		t.Fatalf("%d back ends, want 3", n)
	}

	t.Run("requests cross the chain in order", func(t *testing.T) {
		trace, err := visit(t, d, ns, "/")
		if err != nil {
			t.Fatal(err)
		}
		var roles []string
		for _, h := range trace {
			role, _, _ := strings.Cut(h, ":")
			roles = append(roles, role)
		}
		if got := strings.Join(roles, ","); got != "fw,lb,web,backend,kvdb" {
			t.Fatalf("trace %v, want fw,lb,web,backend,kvdb", trace)
		}
	})
	t.Run("the back ends' session slots are collected", func(t *testing.T) {
		var reports []nfvo.SlotReport
		waitFor(t, 5*time.Second, func() bool {
			reports, _ = c.SlotReports(ctx, ns.ID)
			fresh := 0
			for _, r := range reports {
				if r.VnfProfileID == "backend" && r.Max == 20 && r.Available == 20 && r.Error == "" && r.AgeMs < 1000 {
					fresh++
				}
			}
			return len(reports) == 3 && fresh == 3
		})
		resp, err := http.Get("http://" + d.Addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{
			fmt.Sprintf(`stitch_session_slots{kind="max",ns_instance=%q,vnf_profile="backend",vnfc=%q} 20`, ns.ID, vnfcsOf(ns, "backend")[0].ID),
			fmt.Sprintf(`stitch_vnfc_instances{ns_instance=%q,site="core",state="HEALTHY",vnf_profile="backend"} 3`, ns.ID),
			`stitch_lcm_operations{automatic="false",operation="INSTANTIATE",state="COMPLETED"} 1`,
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
	t.Run("the firewall drops what its rules deny", func(t *testing.T) {
		if _, err := visit(t, d, ns, "/admin"); err == nil {
			t.Fatal("/admin answered; the firewall should drop it")
		}
	})

	t.Run("scale out and in", func(t *testing.T) {
		scale := func(dir string) {
			op, err := c.Scale(ctx, ns.ID, nfvo.ScaleRequest{ScaleType: "SCALE_VNF", ScaleVnfData: nfvo.ScaleVnfData{
				VnfProfileID: "backend", ScaleVnfType: dir, AspectID: "backend-scale"}})
			mustComplete(t, c, op, err)
		}
		scale("SCALE_OUT")
		ns, _ = c.GetNS(ctx, ns.ID)
		backends := vnfcsOf(ns, "backend")
		if len(backends) != 4 {
			t.Fatalf("%d back ends after scale out, want 4", len(backends))
		}
		newest := slices.MaxFunc(backends, func(a, b nfvo.Vnfc) int { return a.Index - b.Index })
		// Programs re-read their bindings within a poll period (250 ms), so
		// the new back end joins the rotation shortly after the operation.
		seen := map[string]bool{}
		deadline := time.Now().Add(5 * time.Second)
		for !seen[newest.ID] && time.Now().Before(deadline) {
			if trace, err := visit(t, d, ns, "/"); err == nil {
				seen[hopsByRole(trace)["backend"]] = true
			}
		}
		if !seen[newest.ID] {
			t.Fatalf("new back end %s got no request within 5 s (saw %v)", newest.ID, seen)
		}
		// A session held on the newest back end makes it the one scale-in
		// must spare: idle instances go first, and the session is not cut.
		held := make(chan error, 1)
		go func() {
			resp, err := siteHTTP(d, "core").Get(fmt.Sprintf("http://%s:8080/api/visit?hold=3s", newest.Addresses["data"]))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("HTTP %d", resp.StatusCode)
				}
			}
			held <- err
		}()
		waitFor(t, 5*time.Second, func() bool {
			resp, err := siteHTTP(d, "core").Get(fmt.Sprintf("http://%s:8080/slots", newest.Addresses["data"]))
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			var slots struct {
				InUse int `json:"in_use"`
			}
			return json.NewDecoder(resp.Body).Decode(&slots) == nil && slots.InUse == 1
		})
		scale("SCALE_IN")
		ns, _ = c.GetNS(ctx, ns.ID)
		after := vnfcsOf(ns, "backend")
		if len(after) != 3 {
			t.Fatalf("%d back ends after scale in, want 3", len(after))
		}
		if !slices.ContainsFunc(after, func(v nfvo.Vnfc) bool { return v.ID == newest.ID }) {
			t.Fatalf("scale in removed %s, which held a session; idle ones go first (left: %v)", newest.ID, ids(after))
		}
		if err := <-held; err != nil {
			t.Fatalf("the held session was cut: %v", err)
		}
		for _, v := range backends {
			gone := !slices.ContainsFunc(after, func(a nfvo.Vnfc) bool { return a.ID == v.ID })
			if pids := processesWithEnv("STITCH_INSTANCE_ID", v.ID); gone && len(pids) != 0 {
				t.Fatalf("scaled-in instance %s still runs as %v", v.ID, pids)
			}
		}
		_, err := c.Scale(ctx, ns.ID, nfvo.ScaleRequest{ScaleVnfData: nfvo.ScaleVnfData{
			VnfProfileID: "backend", ScaleVnfType: "SCALE_IN", AspectID: "backend-scale"}})
		if !errors.Is(err, nfvo.ErrState) && !isStatus(err, http.StatusConflict) {
			t.Fatalf("scaling below the minimum: err = %v, want 409", err)
		}
	})

	t.Run("scale-in drains a busy instance", func(t *testing.T) {
		scale := func(dir string) nfvo.OpStats {
			op, err := c.Scale(ctx, ns.ID, nfvo.ScaleRequest{ScaleType: "SCALE_VNF", ScaleVnfData: nfvo.ScaleVnfData{
				VnfProfileID: "backend", ScaleVnfType: dir, AspectID: "backend-scale"}})
			return *mustComplete(t, c, op, err).Stats
		}
		scale("SCALE_OUT")
		ns, _ = c.GetNS(ctx, ns.ID)
		backends := vnfcsOf(ns, "backend")
		// Every back end holds a session: whichever scale-in picks must
		// finish its session before it goes.
		const hold = 2 * time.Second
		held := make(chan error, len(backends))
		for _, b := range backends {
			go func() {
				resp, err := siteHTTP(d, "core").Get(fmt.Sprintf("http://%s:8080/api/visit?hold=%s", b.Addresses["data"], hold))
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("%s: HTTP %d", b.ID, resp.StatusCode)
					}
				}
				held <- err
			}()
		}
		waitFor(t, 5*time.Second, func() bool {
			busy := 0
			for _, r := range mustSlots(t, c, ns.ID) {
				if r.InUse == 1 && r.AgeMs < 500 {
					busy++
				}
			}
			return busy == len(backends)
		})
		start := time.Now()
		scale("SCALE_IN")
		took := time.Since(start)
		for range backends {
			if err := <-held; err != nil {
				t.Fatalf("a session was cut by the scale-in: %v", err)
			}
		}
		ops, _ := c.ListOps(ctx, ns.ID)
		last := slices.MaxFunc(ops, func(a, b nfvo.LcmOpOcc) int { return a.StartTime.Compare(b.StartTime) })
		var drained bool
		for _, s := range last.Steps {
			drained = drained || strings.Contains(s.Message, "drained")
		}
		if !drained || took < hold/2 {
			t.Fatalf("scale-in took %s with steps %v: want it to wait for the victim's session", took, dump(last.Steps))
		}
	})

	t.Run("a killed instance is healed", func(t *testing.T) {
		victim := vnfcsOf(ns, "backend")[0]
		pids := processesWithEnv("STITCH_INSTANCE_ID", victim.ID)
		if len(pids) != 1 {
			t.Fatalf("instance %s runs as %v, want one process", victim.ID, pids)
		}
		if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		heal := waitForOp(t, c, ns.ID, nfvo.OpHeal, 15*time.Second)
		if !heal.IsAutomaticInvocation || !strings.Contains(heal.Reason, victim.ID) {
			t.Fatalf("heal op %+v: want automatic, naming %s", heal, victim.ID)
		}
		mustComplete(t, c, heal, nil)
		ns, _ = c.GetNS(ctx, ns.ID)
		backends := vnfcsOf(ns, "backend")
		if len(backends) != 3 || slices.ContainsFunc(backends, func(v nfvo.Vnfc) bool { return v.ID == victim.ID }) {
			t.Fatalf("after heal: %v, want 3 back ends without %s", ids(backends), victim.ID)
		}
		if ns.Status != "HEALTHY" {
			t.Fatalf("NS status %q after heal, want HEALTHY", ns.Status)
		}
		if _, err := visit(t, d, ns, "/"); err != nil {
			t.Fatalf("service after heal: %v", err)
		}
	})

	t.Run("terminate leaves nothing behind", func(t *testing.T) {
		op, err := c.Terminate(ctx, ns.ID, nfvo.TerminateRequest{GracefulTerminationTimeout: 2})
		mustComplete(t, c, op, err)
		ns, _ = c.GetNS(ctx, ns.ID)
		if ns.State != nfvo.NsNotInstantiated || len(ns.Vnfcs) != 0 {
			t.Fatalf("after terminate: %s with %d instances", ns.State, len(ns.Vnfcs))
		}
		if pids := processesWithEnv("STITCH_NS_INSTANCE", ns.ID); len(pids) != 0 {
			t.Fatalf("processes of the NS still run: %v", pids)
		}
		leaks, err := d.VIM.Leaks(ctx)
		if err != nil || len(leaks) != 0 {
			t.Fatalf("leaks after terminate: %v, %v", leaks, err)
		}
		if err := c.DeleteNS(ctx, ns.ID); err != nil {
			t.Fatal(err)
		}
	})
}

func mustSlots(t testing.TB, c *api.Client, nsID string) []nfvo.SlotReport {
	t.Helper()
	r, err := c.SlotReports(context.Background(), nsID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ids(vs []nfvo.Vnfc) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}

func isStatus(err error, status int) bool {
	var apiErr *api.APIError
	return errors.As(err, &apiErr) && apiErr.Status == status
}

// waitForOp waits for an operation of a type to appear on an NS instance.
func waitForOp(t testing.TB, c *api.Client, nsID string, typ nfvo.OpType, timeout time.Duration) nfvo.LcmOpOcc {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ops, err := c.ListOps(context.Background(), nsID)
		if err == nil {
			for _, op := range ops {
				if op.LcmOperationType == typ {
					return op
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no %s operation on %s within %s", typ, nsID, timeout)
	return nfvo.LcmOpOcc{}
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

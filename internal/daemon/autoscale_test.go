package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/descriptors"
	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/nfvo/api"
	"github.com/stitchnfv/stitch/sdk/slots"
	"github.com/stitchnfv/stitch/servicerouter/control"
)

// scaledNSD is slottedNSD starting with one back end (20 slots) and a slot
// policy keeping its free slots between a quarter and 90 %.
var scaledNSD = strings.NewReplacer(
	"id: slotted", "id: scaled",
	"              instantiation-level: default\n              sites: [edge]\n              depends-on: [kvdb]",
	"              instantiation-level: single\n              sites: [edge]\n              depends-on: [kvdb]",
).Replace(slottedNSD) + `          scaling-policy:
            - id: backend-slots
              vnf-profile-id: backend
              aspect-id: backend-scale
              metric: free-slots-ratio
              band: {low: 0.25, high: 0.9}
              duration: 1s
              cooldown: 10m
              min-instances: 1
              max-instances: 3
`

// TestAutoscaleOnSlots drives real sessions through the service router
// until the back end's free slots fall under the policy's band, sees a
// second instance serving within the policy's time, then lets the load
// fall and sees it scaled in — once the operator shortened the cooldown
// on the running NS — with no session cut.
func TestAutoscaleOnSlots(t *testing.T) {
	cfg := ovnTestConfig(t)
	d, c := startInProcess(t, cfg)
	t.Cleanup(func() { logChassisOnFailure(t, cfg.StateDir) })
	ctx := context.Background()
	onboardExamples(t, c)
	if _, err := c.OnboardNSD(ctx, []byte(scaledNSD)); err != nil {
		t.Fatal(err)
	}
	ns, err := c.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "scaled", Name: "autoscale"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := c.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
	mustComplete(t, c, op, err)
	if n := backends(t, c, ns.ID); n != 1 {
		t.Fatalf("%d back ends after instantiation, want 1", n)
	}
	edge := siteHTTP(d, "edge")
	edge.Timeout = 30 * time.Second

	// 16 sessions held for a while: 4 of 20 slots free, 0.2 < 0.25.
	held := holdSessions(t, edge, 16, 8*time.Second)
	crossed := untilInUse(t, d, ns.ID, 16)
	out := waitAutoOp(t, c, ns.ID, "SCALE_OUT", 20*time.Second)
	done := mustComplete(t, c, out, nil)
	reaction := reactionTimes{crossed: crossed, started: out.StartTime, done: done.StateEnteredTime}
	if !strings.Contains(out.Reason, "policy backend-slots: free-slots-ratio 0.20 below 0.25 for ") {
		t.Errorf("scale-out reason %q", out.Reason)
	}
	if n := backends(t, c, ns.ID); n != 2 {
		t.Fatalf("%d back ends after the scale-out, want 2", n)
	}
	// The new instance takes sessions: with the held ones on the first,
	// it has the most free slots, so most new sessions go there.
	first := firstBackend(t, c, ns.ID)
	waitRouter(t, c, ns.ID, func(s control.ServiceView) bool { return len(s.Instances) == 2 && entries(s)[first] < xdpRing })
	reaction.serving = time.Now()
	reaction.log(t, out.Reason)
	served := map[string]int{}
	for range 20 {
		inst, err := session(edge, slottedSAP)
		if err != nil {
			t.Fatal(err)
		}
		served[inst]++
	}
	if served[first] > 10 {
		t.Errorf("after the scale-out new sessions went to %v: the instance holding 16 sessions got most", served)
	}

	// The load ends: all slots free (ratio 1 > 0.9), but the 10 min
	// cooldown holds the scale-in back until the operator shortens it.
	held.wait(t)
	waitPolicy(t, c, ns.ID, "after the cooldown")
	in := holdSessions(t, edge, 2, 4*time.Second) // sessions that must survive the scale-in
	cooldown := descriptors.Duration(time.Second)
	if _, err := c.UpdatePolicy(ctx, ns.ID, "backend-slots", nfvo.PolicyUpdate{Cooldown: &cooldown}); err != nil {
		t.Fatal(err)
	}
	scaleIn := waitAutoOp(t, c, ns.ID, "SCALE_IN", 20*time.Second)
	mustComplete(t, c, scaleIn, nil)
	in.wait(t) // every held session answered 200: none was cut
	if n := backends(t, c, ns.ID); n != 1 {
		t.Errorf("%d back ends after the scale-in, want 1", n)
	}
	t.Logf("scale-in: %q", scaleIn.Reason)
}

// reactionTimes splits a scale-out's reaction: detection and decision
// (from the load crossing the threshold — the back end reporting the
// slots in use — to the operation's start, the policy's 1 s duration
// included), deployment (the operation), and the router giving the new
// instance table entries.
type reactionTimes struct{ crossed, started, done, serving time.Time }

func (r reactionTimes) log(t *testing.T, reason string) {
	t.Logf("scale-out reaction: detection + decision %s (policy duration 1 s, so %s beyond it), deployment %s, serving %s after; reason %q",
		r.started.Sub(r.crossed).Round(time.Millisecond), (r.started.Sub(r.crossed) - time.Second).Round(time.Millisecond),
		r.done.Sub(r.started).Round(time.Millisecond), r.serving.Sub(r.done).Round(time.Millisecond), reason)
}

// untilInUse waits until the NS's back ends hold n sessions, as the
// instances count them (GET /slots read directly, not stitch's copy), and
// returns when that was first seen.
func untilInUse(t *testing.T, d *Daemon, nsID string, n int) time.Time {
	t.Helper()
	ns, err := d.Orchestrator.GetNS(context.Background(), nsID)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		inUse := 0
		for _, v := range ns.Vnfcs {
			if v.Profile != "backend" || v.SlotsEndpoint == "" {
				continue
			}
			resp, err := siteHTTP(d, v.Site).Get("http://" + v.SlotsEndpoint + "/slots")
			if err != nil {
				continue
			}
			var snap slots.Snapshot
			err = json.NewDecoder(resp.Body).Decode(&snap)
			resp.Body.Close()
			if err == nil {
				inUse += snap.InUse
			}
		}
		if inUse >= n {
			return time.Now()
		}
	}
	t.Fatalf("the back ends never held %d sessions", n)
	return time.Time{}
}

// firstBackend is the back end created first (index 0).
func firstBackend(t *testing.T, c *api.Client, nsID string) string {
	t.Helper()
	ns, err := c.GetNS(context.Background(), nsID)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range ns.Vnfcs {
		if v.Profile == "backend" && v.Index == 0 {
			return v.ID
		}
	}
	t.Fatal("no first back end")
	return ""
}

// xdpRing is the router's table size: an instance with fewer entries
// shares the table.
const xdpRing = 65537

// held are sessions that hold a slot each until they end.
type held struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
}

// holdSessions opens n sessions through the SAP that hold their slot for
// d, and returns once the back ends report them in use.
func holdSessions(t *testing.T, hc *http.Client, n int, d time.Duration) *held {
	t.Helper()
	h := &held{}
	for range n {
		h.wg.Go(func() {
			resp, err := hc.Get(fmt.Sprintf("%s/api/visit?hold=%s", slottedSAP, d))
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("HTTP %d", resp.StatusCode)
				}
			}
			if err != nil {
				h.mu.Lock()
				h.errs = append(h.errs, err)
				h.mu.Unlock()
			}
		})
	}
	return h
}

// wait waits for the sessions to end and fails on any that did not end
// with 200.
func (h *held) wait(t *testing.T) {
	t.Helper()
	h.wg.Wait()
	if len(h.errs) > 0 {
		t.Fatalf("%d held sessions failed: %v", len(h.errs), h.errs)
	}
}

func backends(t *testing.T, c *api.Client, nsID string) int {
	t.Helper()
	ns, err := c.GetNS(context.Background(), nsID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range ns.Vnfcs {
		if v.Profile == "backend" {
			n++
		}
	}
	return n
}

// waitAutoOp waits for an automatic SCALE operation of the given kind.
func waitAutoOp(t *testing.T, c *api.Client, nsID, kind string, limit time.Duration) nfvo.LcmOpOcc {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		ops, err := c.ListOps(context.Background(), nsID)
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range ops {
			if op.LcmOperationType == nfvo.OpScale && op.IsAutomaticInvocation && strings.Contains(string(op.OperationParams), kind) {
				return op
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	policies, _ := c.ScalingPolicies(context.Background(), nsID)
	t.Fatalf("no automatic %s within %s; policies: %+v", kind, limit, policies)
	return nfvo.LcmOpOcc{}
}

// waitPolicy waits until the NS's one policy's verdict contains want.
func waitPolicy(t *testing.T, c *api.Client, nsID, want string) {
	t.Helper()
	var last []nfvo.PolicyStatus
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		ps, err := c.ScalingPolicies(context.Background(), nsID)
		if err == nil && len(ps) == 1 && strings.Contains(ps[0].Verdict, want) {
			return
		}
		last = ps
	}
	t.Fatalf("policy verdict never contained %q: %+v", want, last)
}

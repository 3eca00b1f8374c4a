package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/config"
	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/nfvo/api"
	"github.com/stitchnfv/stitch/servicerouter/control"
	"github.com/stitchnfv/stitch/vnfm"
)

// slottedNSD puts the sample back end, which has session slots, straight
// behind a service access point: the service router balances on its slots.
const slottedNSD = `
nsd:
  nsd:
    - id: slotted
      version: "1.0"
      vnfd-id: [stitch-backend, stitch-kvdb]
      virtual-link-desc:
        - {id: service, cidr: 10.30.0.0/24}
      sapd:
        - id: api
          virtual-link-desc: service
          address: 10.30.0.100
          port: 8080
          protocol: tcp
          entry: {constituent-base-element-id: backend, constituent-cpd-id: data}
      df:
        - id: default
          virtual-link-profile:
            - {id: service, virtual-link-desc-id: service}
          vnf-profile:
            - id: backend
              vnfd-id: stitch-backend
              flavour-id: default
              instantiation-level: default
              sites: [edge]
              depends-on: [kvdb]
              virtual-link-connectivity:
                - virtual-link-profile-id: service
                  constituent-cpd-id: [{constituent-base-element-id: backend, constituent-cpd-id: data}]
            - id: kvdb
              vnfd-id: stitch-kvdb
              flavour-id: default
              instantiation-level: default
              sites: [core]
              virtual-link-connectivity:
                - virtual-link-profile-id: service
                  constituent-cpd-id: [{constituent-base-element-id: kvdb, constituent-cpd-id: data}]
`

const slottedSAP = "http://10.30.0.100:8080"

// TestServiceRouterBalancesOnSlots runs the service router in front of a
// SAP on the OVN fabric: sessions land on instances in proportion to
// their free slots, a full instance gets none, an established session
// keeps its instance while the instance set changes, and with no free
// slot anywhere a new session is refused with a TCP RST.
func TestServiceRouterBalancesOnSlots(t *testing.T) {
	testServiceRouter(t, config.RouterNative)
}

// TestServiceRouterUserspace runs the same with the router's userspace
// path (AF_PACKET), where XDP cannot be attached.
func TestServiceRouterUserspace(t *testing.T) {
	testServiceRouter(t, config.RouterUserspace)
}

func testServiceRouter(t *testing.T, mode string) {
	cfg := ovnTestConfig(t)
	cfg.ServiceRouter.Mode = mode
	d, c := startInProcess(t, cfg)
	t.Cleanup(func() { logChassisOnFailure(t, cfg.StateDir) })
	ctx := context.Background()
	onboardExamples(t, c)
	if _, err := c.OnboardNSD(ctx, []byte(slottedNSD)); err != nil {
		t.Fatal(err)
	}
	ns, err := c.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "slotted", Name: "router"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := c.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
	mustComplete(t, c, op, err)
	ns, _ = c.GetNS(ctx, ns.ID)
	backends := map[string]string{} // id → address
	var routers int
	for _, v := range ns.Vnfcs {
		switch v.Profile {
		case "backend":
			backends[v.ID] = v.Addresses["data"]
		case "sr-api":
			routers++
			if v.Addresses["data"] != "10.30.0.254" || v.State != nfvo.VnfcHealthy {
				t.Errorf("router %s: %s at %v, want HEALTHY at 10.30.0.254", v.ID, v.State, v.Addresses)
			}
		}
	}
	if len(backends) != 3 || routers != 1 {
		t.Fatalf("want 3 back ends and 1 router, have %v and %d", backends, routers)
	}
	if rows := nsRows(t, d, ns.ID); rows["Load_Balancer"] != 0 {
		t.Errorf("the SAP is still an OVN load balancer: %v", rows)
	}
	// The VNFM follows the router over gNMI too, like any instance.
	waitTelemetry(t, c, ns.ID, func(r vnfm.TelemetryReport) bool {
		return r.Profile == "sr-api" && r.Connected && r.OperStatus == "UP"
	})
	edge := siteHTTP(d, "edge")
	ids := slices.Sorted(maps.Keys(backends))
	full, big, small := ids[0], ids[1], ids[2]

	t.Run("sessions follow free slots, a full instance gets none", func(t *testing.T) {
		setSlots(t, edge, backends, map[string]int{full: 0, big: 30, small: 10})
		waitRouter(t, c, ns.ID, func(s control.ServiceView) bool {
			e := entries(s)
			return e[full] == 0 && e[big] > 2*e[small] && e[small] > 0
		})
		// These sessions last a few milliseconds; until the router has
		// measured that (from a slot report that follows its sends, see
		// servicerouter/slots), it counts each as a taken slot and may
		// refuse some once the sessions since the last report outnumber
		// the free slots. Reports reach it every 200–400 ms.
		refused, warm := 0, 0
		for start := time.Now(); time.Since(start) < 1500*time.Millisecond; warm++ {
			if _, err := session(edge, slottedSAP); err != nil {
				refused++
			}
		}
		t.Logf("while the router learnt the session length (1.5 s): %d of %d sessions refused", refused, warm)
		got := map[string]int{}
		const sessions = 200
		for i := range sessions {
			inst, err := session(edge, slottedSAP)
			if err != nil {
				t.Fatalf("session %d: %v; the router: %+v", i, err, routerView(t, c, ns.ID))
			}
			got[inst]++
		}
		t.Logf("%d sessions: %v (slots %s=30, %s=10, %s=0)", sessions, got, big, small, full)
		if got[full] != 0 {
			t.Errorf("the full instance %s got %d sessions", full, got[full])
		}
		// Weights 30:10 → 3/4 of the sessions; binomial sd ≈ 6, allow 4 sd.
		if n := got[big]; n < 126 || n > 174 {
			t.Errorf("%s (30 free slots of 40) got %d of %d sessions, want about 150", big, n, sessions)
		}
		view := routerView(t, c, ns.ID)
		var counted uint64
		for _, in := range view.Instances {
			counted += in.Counters.NewSessions
		}
		if want := uint64(sessions + warm - refused); counted < want {
			t.Errorf("the router counted %d new sessions, want at least %d", counted, want)
		}
		resp, err := http.Get("http://" + d.Addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{
			fmt.Sprintf(`stitch_router_new_sessions_total{instance=%q,ns_instance=%q,service="slotted/api"}`, big, ns.ID),
			fmt.Sprintf(`stitch_router_table_share{instance=%q,ns_instance=%q,service="slotted/api"} 0`+"\n", full, ns.ID),
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("the daemon's metrics lack %s", want)
			}
		}
	})

	t.Run("an established session keeps its instance while the set changes", func(t *testing.T) {
		setSlots(t, edge, backends, map[string]int{full: 20, big: 20, small: 20})
		keep := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			DialContext: edge.Transport.(*http.Transport).DialContext, MaxIdleConnsPerHost: 1,
		}}
		defer keep.CloseIdleConnections()
		first, reused, err := visitTraced(keep, slottedSAP)
		if err != nil || reused {
			t.Fatalf("first request: %v (reused %v)", err, reused)
		}
		op, err := c.Scale(ctx, ns.ID, nfvo.ScaleRequest{ScaleType: "SCALE_VNF", ScaleVnfData: nfvo.ScaleVnfData{
			VnfProfileID: "backend", ScaleVnfType: "SCALE_OUT", AspectID: "backend-scale", NumberOfSteps: 1}})
		mustComplete(t, c, op, err)
		waitRouter(t, c, ns.ID, func(s control.ServiceView) bool { return len(s.Instances) == 4 && entries(s)[first] > 0 })
		again, reused, err := visitTraced(keep, slottedSAP)
		if err != nil {
			t.Fatalf("request on the established connection after the scale-out: %v", err)
		}
		if !reused || again != first {
			t.Errorf("after the scale-out the connection was reused %v and answered by %s, want reused and %s", reused, again, first)
		}
	})

	t.Run("no free slot anywhere: refused with a TCP RST", func(t *testing.T) {
		ns, _ := c.GetNS(ctx, ns.ID)
		all := map[string]string{}
		zero := map[string]int{}
		for _, v := range ns.Vnfcs {
			if v.Profile == "backend" {
				all[v.ID], zero[v.ID] = v.Addresses["data"], 0
			}
		}
		setSlots(t, edge, all, zero)
		waitRouter(t, c, ns.ID, func(s control.ServiceView) bool {
			for _, e := range entries(s) {
				if e > 0 {
					return false
				}
			}
			return true
		})
		before := routerView(t, c, ns.ID).Counters.Refused
		conn, err := d.VIM.DialContext(ctx, "edge", "tcp", "10.30.0.100:8080")
		if err == nil {
			conn.Close()
			t.Fatal("a session was accepted with no free slot")
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial with no free slot: %v, want connection refused (RST)", err)
		}
		if after := routerView(t, c, ns.ID).Counters.Refused; after <= before {
			t.Errorf("refusals counted %d → %d", before, after)
		}
	})

	op, err = c.Terminate(ctx, ns.ID, nfvo.TerminateRequest{})
	mustComplete(t, c, op, err)
	if leaks, err := d.VIM.Leaks(ctx); err != nil || len(leaks) > 0 {
		t.Errorf("leaks after terminate: %v, %v", leaks, err)
	}
}

// setSlots gives back ends new slot budgets (PUT /slots).
func setSlots(t *testing.T, hc *http.Client, addrs map[string]string, max map[string]int) {
	t.Helper()
	for id, n := range max {
		req, _ := http.NewRequest(http.MethodPut, "http://"+addrs[id]+":8080/slots", strings.NewReader(fmt.Sprintf(`{"max":%d}`, n)))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("PUT /slots on %s: %v", id, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("PUT /slots on %s: HTTP %d", id, resp.StatusCode)
		}
	}
}

// waitRouter polls the NS's router until its one service satisfies ok.
func waitRouter(t *testing.T, c *api.Client, nsID string, ok func(control.ServiceView) bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last control.ServiceView
	for time.Now().Before(deadline) {
		routers, err := c.Routers(context.Background(), nsID)
		if err == nil && len(routers) == 1 && len(routers[0].Services) == 1 {
			if last = routers[0].Services[0]; ok(last) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the router did not get there in 15 s; last view: %+v", last)
}

func routerView(t *testing.T, c *api.Client, nsID string) control.ServiceView {
	t.Helper()
	routers, err := c.Routers(context.Background(), nsID)
	if err != nil || len(routers) != 1 || len(routers[0].Services) != 1 {
		t.Fatalf("routers: %+v, %v", routers, err)
	}
	return routers[0].Services[0]
}

func entries(s control.ServiceView) map[string]int {
	out := map[string]int{}
	for _, in := range s.Instances {
		out[in.ID] = in.Entries
	}
	return out
}

// session opens a session and returns the back end instance that served
// it.
func session(hc *http.Client, url string) (string, error) {
	inst, _, err := visitTraced(hc, url)
	return inst, err
}

func visitTraced(hc *http.Client, url string) (inst string, reused bool, err error) {
	req, _ := http.NewRequest(http.MethodGet, url+"/api/visit", nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused },
	}))
	resp, err := hc.Do(req)
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", reused, err
	}
	if resp.StatusCode != http.StatusOK {
		return "", reused, fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	var v struct {
		Instance string `json:"instance"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Instance == "" {
		return "", reused, fmt.Errorf("answer %q: %v", body, err)
	}
	return v.Instance, reused, nil
}

// logChassisOnFailure logs the end of every ovs-vswitchd log of the test's
// sites when it failed: a data plane that stops forwarding is told there.
func logChassisOnFailure(t *testing.T, stateDir string) {
	if !t.Failed() {
		return
	}
	logs, _ := filepath.Glob(filepath.Join(stateDir, "vim", "*", "*", "ovs-vswitchd.log"))
	more, _ := filepath.Glob(filepath.Join(stateDir, "vim", "*", "ovs-vswitchd.log"))
	for _, l := range append(logs, more...) {
		b, _ := os.ReadFile(l)
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		t.Logf("%s:\n%s", l, b)
	}
}

// waitTelemetry waits until one of the NS's telemetry reports satisfies ok.
func waitTelemetry(t *testing.T, c *api.Client, nsID string, ok func(vnfm.TelemetryReport) bool) {
	t.Helper()
	var last []vnfm.TelemetryReport
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		reports, err := c.TelemetryReports(context.Background(), nsID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reports {
			if ok(r) {
				return
			}
		}
		last = reports
	}
	t.Fatalf("no telemetry report as wanted in 20 s: %+v", last)
}

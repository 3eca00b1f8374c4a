package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/servicerouter/control"
)

// state is a canned Source: the collector's mapping of stitch's state to
// metrics is under test here; internal/daemon scrapes a real daemon.
type state struct {
	ns      []nfvo.NsInstance
	ops     []nfvo.LcmOpOcc
	slots   map[string][]nfvo.SlotReport
	routers map[string][]nfvo.RouterView
	failOps bool
}

func (s state) ListNS(context.Context) ([]nfvo.NsInstance, error) { return s.ns, nil }
func (s state) GetNS(_ context.Context, id string) (nfvo.NsInstance, error) {
	for _, ns := range s.ns {
		if ns.ID == id {
			return ns, nil
		}
	}
	return nfvo.NsInstance{}, nfvo.ErrNotFound
}
func (s state) ListOps(context.Context, string) ([]nfvo.LcmOpOcc, error) {
	if s.failOps {
		return nil, errors.New("store closed")
	}
	return s.ops, nil
}
func (s state) SlotReports(_ context.Context, id string) ([]nfvo.SlotReport, error) {
	return s.slots[id], nil
}

func (s state) Routers(_ context.Context, id string) ([]nfvo.RouterView, error) {
	return s.routers[id], nil
}

func scrape(t *testing.T, src Source) string {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(src, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 {
		t.Fatalf("scrape: HTTP %d\n%s", rec.Code, body)
	}
	return string(body)
}

func TestCollector(t *testing.T) {
	src := state{
		ns: []nfvo.NsInstance{
			{ID: "ns1", State: nfvo.NsInstantiated, Status: "HEALTHY", Vnfcs: []nfvo.Vnfc{
				{ID: "be-0", Profile: "backend", Site: "core", State: nfvo.VnfcHealthy},
				{ID: "be-1", Profile: "backend", Site: "core", State: nfvo.VnfcHealthy},
				{ID: "fw-0", Profile: "fw", Site: "edge", State: nfvo.VnfcFailed},
			}},
			{ID: "ns2", State: nfvo.NsNotInstantiated},
		},
		ops: []nfvo.LcmOpOcc{
			{LcmOperationType: nfvo.OpInstantiate, OperationState: nfvo.OpCompleted, Stats: &nfvo.OpStats{DurationMs: 1500}},
			{LcmOperationType: nfvo.OpHeal, OperationState: nfvo.OpProcessing, IsAutomaticInvocation: true},
		},
		slots: map[string][]nfvo.SlotReport{"ns1": {
			{VnfcID: "be-0", VnfProfileID: "backend", Max: 20, Available: 18, InUse: 2, ReportedAt: time.Now(), AgeMs: 150},
			{VnfcID: "be-1", VnfProfileID: "backend", Error: "connection refused"},
		}},
		routers: map[string][]nfvo.RouterView{"ns1": {
			{VnfcID: "sr-0", Services: []control.ServiceView{{Name: "web/sap", Counters: control.Counters{Refused: 3},
				Instances: []control.InstanceView{{ID: "be-0", Share: 25, Estimate: control.Estimate{Free: 18, Weight: 15},
					Counters: control.Counters{NewSessions: 40}}},
				Overflow: &control.InstanceView{ID: "domain:west", Counters: control.Counters{NewSessions: 2}}}}},
			{VnfcID: "sr-1", Error: "connection refused"},
		}},
	}
	got := scrape(t, src)
	for _, want := range []string{
		`stitch_ns_instances{state="INSTANTIATED",status="HEALTHY"} 1`,
		`stitch_ns_instances{state="NOT_INSTANTIATED",status=""} 1`,
		`stitch_vnfc_instances{ns_instance="ns1",site="core",state="HEALTHY",vnf_profile="backend"} 2`,
		`stitch_vnfc_instances{ns_instance="ns1",site="edge",state="FAILED",vnf_profile="fw"} 1`,
		`stitch_lcm_operations{automatic="true",operation="HEAL",state="PROCESSING"} 1`,
		`stitch_lcm_operation_duration_seconds_sum{operation="INSTANTIATE"} 1.5`,
		`stitch_session_slots{kind="in_use",ns_instance="ns1",vnf_profile="backend",vnfc="be-0"} 2`,
		`stitch_session_slots{kind="available",ns_instance="ns1",vnf_profile="backend",vnfc="be-0"} 18`,
		`stitch_session_slots_report_age_seconds{ns_instance="ns1",vnf_profile="backend",vnfc="be-0"} 0.15`,
		`stitch_router_new_sessions_total{instance="be-0",ns_instance="ns1",service="web/sap"} 40`,
		`stitch_router_new_sessions_total{instance="overflow:west",ns_instance="ns1",service="web/sap"} 2`,
		`stitch_router_refused_total{ns_instance="ns1",service="web/sap"} 3`,
		`stitch_router_free_slots{instance="be-0",kind="reported",ns_instance="ns1",service="web/sap"} 18`,
		`stitch_router_free_slots{instance="be-0",kind="weight",ns_instance="ns1",service="web/sap"} 15`,
		`stitch_router_table_share{instance="be-0",ns_instance="ns1",service="web/sap"} 0.25`,
		`stitch_router_up{ns_instance="ns1",router="sr-0"} 1`,
		`stitch_router_up{ns_instance="ns1",router="sr-1"} 0`,
		`stitch_metrics_scrape_errors 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if strings.Contains(got, `vnfc="be-1"`) {
		t.Error("an instance never read successfully got slot metrics")
	}
	src.failOps = true
	if got := scrape(t, src); !strings.Contains(got, "stitch_metrics_scrape_errors 1") || !strings.Contains(got, "stitch_ns_instances") {
		t.Errorf("a failed read should be flagged and the rest still served:\n%s", got)
	}
}

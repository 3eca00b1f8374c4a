package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/descriptors"
	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/nfvo/api"
	"github.com/stitchnfv/stitch/nfvo/api/apitest"
)

var _ api.Service = (*apitest.Fake)(nil)

const (
	vnfdFW = "id: fw\nversion: \"1.0\"\nprovider: acme\nproduct-name: Firewall\nvdu: [{id: main}]\n"
	vnfdLB = `{"id": "lb", "version": "2.1", "kind": "vnf", "x-vendor-extension": true}`
	nsdWeb = "id: web\nversion: \"1.0\"\nname: Web service\nvnfd-id: [fw, lb]\n"
)

// seed puts a catalog with two VNFDs, an NSD and one NS instance into f.
func seed(t *testing.T, f *apitest.Fake) nfvo.NsInstance {
	t.Helper()
	ctx := context.Background()
	for _, doc := range []string{vnfdFW, vnfdLB} {
		if _, err := f.OnboardVNFD(ctx, []byte(doc)); err != nil {
			t.Fatalf("seed VNFD: %v", err)
		}
	}
	if _, err := f.OnboardNSD(ctx, []byte(nsdWeb)); err != nil {
		t.Fatalf("seed NSD: %v", err)
	}
	ns, err := f.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "web", Name: "web-1"})
	if err != nil {
		t.Fatalf("seed NS: %v", err)
	}
	return ns
}

// instantiated seeds f and runs an instantiation of the NS to completion.
func instantiated(t *testing.T, f *apitest.Fake) nfvo.NsInstance {
	t.Helper()
	ns := seed(t, f)
	ctx := context.Background()
	op, err := f.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	for !op.OperationState.Final() {
		if op, err = f.GetOp(ctx, op.ID); err != nil {
			t.Fatalf("get op: %v", err)
		}
	}
	return ns
}

// failedTempOp seeds f and leaves an instantiation in FAILED_TEMP.
func failedTempOp(t *testing.T, f *apitest.Fake) nfvo.LcmOpOcc {
	t.Helper()
	ns := seed(t, f)
	f.SetPlan(apitest.FailingPlan("site-a has no capacity left"))
	ctx := context.Background()
	op, err := f.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	for op.OperationState != nfvo.OpFailedTemp {
		if op, err = f.GetOp(ctx, op.ID); err != nil {
			t.Fatalf("get op: %v", err)
		}
	}
	return op
}

func serve(h http.Handler, method, path, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decodeProblem(t *testing.T, rec *httptest.ResponseRecorder) nfvo.Problem {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, rec.Body)
	}
	var p nfvo.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("decode problem %q: %v", rec.Body, err)
	}
	if p.Status != rec.Code {
		t.Errorf("problem status %d, response status %d", p.Status, rec.Code)
	}
	return p
}

// withVnfc seeds an NS instance with a back end (with slots) and a
// firewall.
func withVnfc(t *testing.T, f *apitest.Fake) {
	seedOnly(t, f)
	f.AddVnfc(nfvo.Vnfc{ID: "ns-1-be-0", NsID: "ns-1", Profile: "be", Site: "core", Slots: 20})
	f.AddVnfc(nfvo.Vnfc{ID: "ns-1-fw-0", NsID: "ns-1", Profile: "fw", Site: "edge"})
}

func TestHandler(t *testing.T) {
	big := `{"nsdId": "web", "nsName": "` + strings.Repeat("x", 1<<20) + `"}`
	tests := []struct {
		name   string
		setup  func(t *testing.T, f *apitest.Fake) // may be nil
		method string
		path   string
		body   string
		header []string

		wantStatus   int
		wantLocation string // exact, when not empty
		wantType     string // problem type, when the answer is a problem
		wantDetail   string // substring of the problem detail
		wantBody     string // substring of the body
		notCalled    bool   // the Service must not be called
	}{
		// Catalog.
		{name: "onboard VNFD YAML", method: "POST", path: "/vnfpkgm/v1/vnf_packages", body: vnfdFW,
			wantStatus: 201, wantLocation: "/vnfpkgm/v1/vnf_packages/fw:1.0", wantBody: `"vnfProvider":"acme"`},
		{name: "onboard VNFD JSON with warnings", method: "POST", path: "/vnfpkgm/v1/vnf_packages", body: vnfdLB,
			wantStatus: 201, wantLocation: "/vnfpkgm/v1/vnf_packages/lb:2.1", wantBody: `"warnings":["x-vendor-extension: field not used by stitch"]`},
		{name: "onboard VNFD empty body", method: "POST", path: "/vnfpkgm/v1/vnf_packages", body: " \n",
			wantStatus: 400, wantType: api.ProblemTypeBadRequest, wantDetail: "empty", notCalled: true},
		{name: "onboard VNFD twice", setup: seedOnly, method: "POST", path: "/vnfpkgm/v1/vnf_packages", body: vnfdFW,
			wantStatus: 409, wantType: api.ProblemTypeConflict, wantDetail: "already onboarded"},
		{name: "onboard VNFD without id", method: "POST", path: "/vnfpkgm/v1/vnf_packages", body: "version: \"1\"\n",
			wantStatus: 422, wantType: api.ProblemTypeInvalid, wantDetail: "no id"},
		{name: "onboard VNFD over 10 MiB", method: "POST", path: "/vnfpkgm/v1/vnf_packages", body: "id: x\n#" + strings.Repeat("x", 10<<20),
			wantStatus: 413, wantType: api.ProblemTypeBadRequest, notCalled: true},
		{name: "list VNFDs empty is []", method: "GET", path: "/vnfpkgm/v1/vnf_packages",
			wantStatus: 200, wantBody: "[]"},
		{name: "list VNFDs", setup: seedOnly, method: "GET", path: "/vnfpkgm/v1/vnf_packages",
			wantStatus: 200, wantBody: `"id":"fw:1.0"`},
		{name: "get VNFD latest", setup: seedOnly, method: "GET", path: "/vnfpkgm/v1/vnf_packages/lb",
			wantStatus: 200, wantBody: `"id":"lb:2.1"`},
		{name: "get VNFD as YAML", setup: seedOnly, method: "GET", path: "/vnfpkgm/v1/vnf_packages/lb:2.1",
			header: []string{"Accept", "application/yaml"}, wantStatus: 200, wantBody: "vnfdVersion: \"2.1\""},
		{name: "get VNFD unknown", method: "GET", path: "/vnfpkgm/v1/vnf_packages/nope",
			wantStatus: 404, wantType: api.ProblemTypeNotFound, wantDetail: `"nope"`},
		{name: "get VNFD document", setup: seedOnly, method: "GET", path: "/vnfpkgm/v1/vnf_packages/fw/vnfd",
			wantStatus: 200, wantBody: `"product-name":"Firewall"`},
		{name: "get VNFD document as YAML", setup: seedOnly, method: "GET", path: "/vnfpkgm/v1/vnf_packages/fw/vnfd",
			header: []string{"Accept", "application/yaml, application/json"}, wantStatus: 200, wantBody: "product-name: Firewall"},
		{name: "delete VNFD in use", setup: seedOnly, method: "DELETE", path: "/vnfpkgm/v1/vnf_packages/fw:1.0",
			wantStatus: 409, wantType: api.ProblemTypeConflict, wantDetail: "used by NSD web:1.0"},
		{name: "onboard NSD", setup: vnfdsOnly, method: "POST", path: "/nsd/v1/ns_descriptors", body: nsdWeb,
			wantStatus: 201, wantLocation: "/nsd/v1/ns_descriptors/web:1.0", wantBody: `"vnfdId":["fw","lb"]`},
		{name: "onboard NSD with unknown VNFD", method: "POST", path: "/nsd/v1/ns_descriptors", body: nsdWeb,
			wantStatus: 422, wantType: api.ProblemTypeInvalid, wantDetail: `vnfd-id "fw" is not onboarded`},
		{name: "onboard NSD empty body", method: "POST", path: "/nsd/v1/ns_descriptors",
			wantStatus: 400, wantType: api.ProblemTypeBadRequest, notCalled: true},
		{name: "get NSD document", setup: seedOnly, method: "GET", path: "/nsd/v1/ns_descriptors/web:1.0/nsd",
			wantStatus: 200, wantBody: `"name":"Web service"`},
		{name: "delete NSD in use", setup: seedOnly, method: "DELETE", path: "/nsd/v1/ns_descriptors/web",
			wantStatus: 409, wantType: api.ProblemTypeConflict},

		// NS instances.
		{name: "create NS", setup: vnfdsAndNSD, method: "POST", path: "/nslcm/v1/ns_instances",
			body: `{"nsdId": "web", "nsName": "web-2"}`, wantStatus: 201, wantLocation: "/nslcm/v1/ns_instances/ns-1",
			wantBody: `"nsState":"NOT_INSTANTIATED"`},
		{name: "create NS malformed JSON", setup: vnfdsAndNSD, method: "POST", path: "/nslcm/v1/ns_instances",
			body: `{"nsdId": "web",`, wantStatus: 400, wantType: api.ProblemTypeBadRequest, wantDetail: "malformed JSON", notCalled: true},
		{name: "create NS unknown field", setup: vnfdsAndNSD, method: "POST", path: "/nslcm/v1/ns_instances",
			body: `{"nsdId": "web", "nsName": "a", "nsdVersoin": "1.0"}`, wantStatus: 400, wantType: api.ProblemTypeBadRequest,
			wantDetail: `unknown field "nsdVersoin"`, notCalled: true},
		{name: "create NS wrong field type", method: "POST", path: "/nslcm/v1/ns_instances",
			body: `{"nsdId": 7}`, wantStatus: 400, wantType: api.ProblemTypeBadRequest, notCalled: true},
		{name: "create NS two objects", method: "POST", path: "/nslcm/v1/ns_instances",
			body: `{"nsdId": "web", "nsName": "a"} {}`, wantStatus: 400, wantDetail: "after the JSON value", notCalled: true},
		{name: "create NS empty body", method: "POST", path: "/nslcm/v1/ns_instances",
			wantStatus: 400, wantDetail: "empty", notCalled: true},
		{name: "create NS body over 1 MiB", method: "POST", path: "/nslcm/v1/ns_instances", body: big,
			wantStatus: 413, wantDetail: "exceeds 1048576 bytes", notCalled: true},
		{name: "create NS unknown NSD", method: "POST", path: "/nslcm/v1/ns_instances",
			body: `{"nsdId": "web", "nsName": "a"}`, wantStatus: 404, wantType: api.ProblemTypeNotFound},
		{name: "create NS without name", setup: vnfdsAndNSD, method: "POST", path: "/nslcm/v1/ns_instances",
			body: `{"nsdId": "web"}`, wantStatus: 422, wantType: api.ProblemTypeInvalid, wantDetail: "nsName is required"},
		{name: "list NS", setup: seedOnly, method: "GET", path: "/nslcm/v1/ns_instances",
			wantStatus: 200, wantBody: `"nsInstanceName":"web-1"`},
		{name: "get NS", setup: seedOnly, method: "GET", path: "/nslcm/v1/ns_instances/ns-1",
			wantStatus: 200, wantBody: `"vnfdVersions":{"fw":"1.0","lb":"2.1"}`},
		{name: "slot reports", setup: withVnfc, method: "GET", path: "/nslcm/v1/ns_instances/ns-1/slots",
			wantStatus: 200, wantBody: `[{"vnfcId":"ns-1-be-0","vnfProfileId":"be","site":"core","max":20,"available":19,"inUse":1,"seq":1,`},
		{name: "slot reports of an unknown NS", method: "GET", path: "/nslcm/v1/ns_instances/nope/slots",
			wantStatus: 404, wantType: api.ProblemTypeNotFound},
		{name: "scaling policies", setup: withVnfc, method: "GET", path: "/nslcm/v1/ns_instances/ns-1/scaling_policies",
			wantStatus: 200, wantBody: `"id":"slots","vnfProfileId":"be","aspectId":"scale","metric":"free-slots-ratio","band":{"low":0.2,"high":0.8}`},
		{name: "change a policy's cooldown", setup: withVnfc, method: "PATCH", path: "/nslcm/v1/ns_instances/ns-1/scaling_policies/slots",
			body: `{"cooldown": "5s"}`, wantStatus: 200, wantBody: `"cooldown":"5s"`},
		{name: "change a policy: unknown field", setup: withVnfc, method: "PATCH", path: "/nslcm/v1/ns_instances/ns-1/scaling_policies/slots",
			body: `{"cooldwn": "5s"}`, wantStatus: 400, wantDetail: `unknown field "cooldwn"`, notCalled: true},
		{name: "change a policy: bad band", setup: withVnfc, method: "PATCH", path: "/nslcm/v1/ns_instances/ns-1/scaling_policies/slots",
			body: `{"band": {"low": 0.9, "high": 0.1}}`, wantStatus: 422, wantType: api.ProblemTypeInvalid},
		{name: "change an unknown policy", setup: withVnfc, method: "PATCH", path: "/nslcm/v1/ns_instances/ns-1/scaling_policies/nope",
			body: `{"cooldown": "5s"}`, wantStatus: 404, wantType: api.ProblemTypeNotFound},
		{name: "delete NS", setup: seedOnly, method: "DELETE", path: "/nslcm/v1/ns_instances/ns-1", wantStatus: 204},
		{name: "delete instantiated NS", setup: instantiatedOnly, method: "DELETE", path: "/nslcm/v1/ns_instances/ns-1",
			wantStatus: 409, wantType: api.ProblemTypeState, wantDetail: "terminate it first"},

		// Lifecycle operations.
		{name: "instantiate without body", setup: seedOnly, method: "POST", path: "/nslcm/v1/ns_instances/ns-1/instantiate",
			wantStatus: 202, wantLocation: "/nslcm/v1/ns_lcm_op_occs/op-2", wantBody: `"lcmOperationType":"INSTANTIATE"`},
		{name: "instantiate with flavour", setup: seedOnly, method: "POST", path: "/nslcm/v1/ns_instances/ns-1/instantiate",
			body: `{"nsFlavourId": "small"}`, wantStatus: 202, wantBody: `"operationParams":{"nsFlavourId":"small"}`},
		{name: "instantiate unknown field", setup: seedOnly, method: "POST", path: "/nslcm/v1/ns_instances/ns-1/instantiate",
			body: `{"flavour": "small"}`, wantStatus: 400, wantDetail: `unknown field "flavour"`, notCalled: true},
		{name: "instantiate busy", setup: busy, method: "POST", path: "/nslcm/v1/ns_instances/ns-1/instantiate",
			wantStatus: 409, wantType: api.ProblemTypeBusy, wantDetail: "busy with INSTANTIATE operation op-2"},
		{name: "instantiate unknown NS", method: "POST", path: "/nslcm/v1/ns_instances/ns-9/instantiate",
			wantStatus: 404, wantType: api.ProblemTypeNotFound},
		{name: "scale", setup: instantiatedOnly, method: "POST", path: "/nslcm/v1/ns_instances/ns-1/scale",
			body:       `{"scaleType": "SCALE_VNF", "scaleVnfData": {"vnfProfileId": "fw", "scaleVnfType": "SCALE_OUT", "aspectId": "sessions"}}`,
			wantStatus: 202, wantLocation: "/nslcm/v1/ns_lcm_op_occs/op-3", wantBody: `"lcmOperationType":"SCALE"`},
		{name: "scale needs a body", setup: instantiatedOnly, method: "POST", path: "/nslcm/v1/ns_instances/ns-1/scale",
			wantStatus: 400, wantDetail: "empty", notCalled: true},
		{name: "scale unknown nested field", setup: instantiatedOnly, method: "POST", path: "/nslcm/v1/ns_instances/ns-1/scale",
			body: `{"scaleType": "SCALE_VNF", "scaleVnfData": {"vnfProfileId": "fw", "steps": 2}}`, wantStatus: 400, notCalled: true},
		{name: "scale invalid", setup: instantiatedOnly, method: "POST", path: "/nslcm/v1/ns_instances/ns-1/scale",
			body: `{"scaleType": "SCALE_VNF", "scaleVnfData": {}}`, wantStatus: 422, wantType: api.ProblemTypeInvalid},
		{name: "scale not instantiated", setup: seedOnly, method: "POST", path: "/nslcm/v1/ns_instances/ns-1/scale",
			body:       `{"scaleType": "SCALE_VNF", "scaleVnfData": {"vnfProfileId": "fw", "scaleVnfType": "SCALE_IN", "aspectId": "a"}}`,
			wantStatus: 409, wantType: api.ProblemTypeState},
		{name: "heal", setup: instantiatedOnly, method: "POST", path: "/nslcm/v1/ns_instances/ns-1/heal",
			body: `{"vnfcIds": ["ns-1-fw-0"]}`, wantStatus: 202, wantBody: `"lcmOperationType":"HEAL"`},
		{name: "terminate", setup: instantiatedOnly, method: "POST", path: "/nslcm/v1/ns_instances/ns-1/terminate",
			body: `{"gracefulTerminationTimeout": 10}`, wantStatus: 202, wantBody: `"lcmOperationType":"TERMINATE"`},
		{name: "terminate with string timeout", setup: instantiatedOnly, method: "POST", path: "/nslcm/v1/ns_instances/ns-1/terminate",
			body: `{"gracefulTerminationTimeout": "10s"}`, wantStatus: 400, notCalled: true},

		// Operation occurrences.
		{name: "list ops of an NS", setup: instantiatedOnly, method: "GET", path: "/nslcm/v1/ns_lcm_op_occs?nsInstanceId=ns-1",
			wantStatus: 200, wantBody: `"operationState":"COMPLETED"`},
		{name: "list ops of another NS", setup: instantiatedOnly, method: "GET", path: "/nslcm/v1/ns_lcm_op_occs?nsInstanceId=ns-7",
			wantStatus: 200, wantBody: "[]"},
		{name: "get op", setup: instantiatedOnly, method: "GET", path: "/nslcm/v1/ns_lcm_op_occs/op-2",
			wantStatus: 200, wantBody: `"steps":[`},
		{name: "retry completed op", setup: instantiatedOnly, method: "POST", path: "/nslcm/v1/ns_lcm_op_occs/op-2/retry",
			wantStatus: 409, wantType: api.ProblemTypeState, wantDetail: "not FAILED_TEMP"},
		{name: "retry", setup: failedTempOnly, method: "POST", path: "/nslcm/v1/ns_lcm_op_occs/op-2/retry",
			wantStatus: 202, wantLocation: "/nslcm/v1/ns_lcm_op_occs/op-2", wantBody: `"operationState":"PROCESSING"`},
		{name: "rollback", setup: failedTempOnly, method: "POST", path: "/nslcm/v1/ns_lcm_op_occs/op-2/rollback",
			wantStatus: 202, wantBody: `"operationState":"ROLLING_BACK"`},
		{name: "fail", setup: failedTempOnly, method: "POST", path: "/nslcm/v1/ns_lcm_op_occs/op-2/fail",
			wantStatus: 202, wantBody: `"operationState":"FAILED"`},
		{name: "fail unknown op", method: "POST", path: "/nslcm/v1/ns_lcm_op_occs/op-9/fail",
			wantStatus: 404, wantType: api.ProblemTypeNotFound},

		// Subscriptions.
		{name: "subscribe", method: "POST", path: "/nslcm/v1/subscriptions",
			body:       `{"callbackUri": "http://oss.example/notify", "nsInstanceIds": ["ns-1"]}`,
			wantStatus: 201, wantLocation: "/nslcm/v1/subscriptions/sub-1", wantBody: `"nsInstanceIds":["ns-1"]`},
		{name: "subscribe with an id", method: "POST", path: "/nslcm/v1/subscriptions",
			body: `{"id": "mine", "callbackUri": "http://oss.example/notify"}`, wantStatus: 400, wantDetail: `unknown field "id"`, notCalled: true},
		{name: "subscribe bad callback", method: "POST", path: "/nslcm/v1/subscriptions",
			body: `{"callbackUri": "oss.example"}`, wantStatus: 422, wantType: api.ProblemTypeInvalid},
		{name: "get subscription", setup: subscribed, method: "GET", path: "/nslcm/v1/subscriptions/sub-1",
			wantStatus: 200, wantBody: `"callbackUri":"http://oss.example/notify"`},
		{name: "get unknown subscription", setup: subscribed, method: "GET", path: "/nslcm/v1/subscriptions/sub-2",
			wantStatus: 404, wantType: api.ProblemTypeNotFound},
		{name: "delete subscription", setup: subscribed, method: "DELETE", path: "/nslcm/v1/subscriptions/sub-1", wantStatus: 204},
		{name: "list subscriptions", setup: subscribed, method: "GET", path: "/nslcm/v1/subscriptions",
			wantStatus: 200, wantBody: `"id":"sub-1"`},

		// The API itself.
		{name: "health", method: "GET", path: "/healthz", wantStatus: 200, wantBody: `{"status":"ok"}`, notCalled: true},
		{name: "openapi YAML", method: "GET", path: "/openapi.yaml", wantStatus: 200, wantBody: "openapi: 3.0.3", notCalled: true},
		{name: "openapi JSON", method: "GET", path: "/openapi.json", wantStatus: 200, wantBody: `"openapi":"3.0.3"`, notCalled: true},
		{name: "unknown path", method: "GET", path: "/nslcm/v2/ns_instances", wantStatus: 404,
			wantType: api.ProblemTypeNotFound, wantDetail: "no resource at /nslcm/v2/ns_instances", notCalled: true},
		{name: "wrong method", method: "PUT", path: "/nslcm/v1/ns_instances/ns-1", wantStatus: 405,
			wantDetail: "PUT is not allowed", notCalled: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := apitest.New()
			if tt.setup != nil {
				tt.setup(t, f)
			}
			before := len(f.Calls())
			rec := serve(api.NewHandler(f, nil), tt.method, tt.path, tt.body, tt.header...)

			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if got := rec.Header().Get("Location"); tt.wantLocation != "" && got != tt.wantLocation {
				t.Errorf("Location = %q, want %q", got, tt.wantLocation)
			}
			if tt.wantStatus >= 400 {
				p := decodeProblem(t, rec)
				if tt.wantType != "" && p.Type != tt.wantType {
					t.Errorf("problem type = %q, want %q", p.Type, tt.wantType)
				}
				if !strings.Contains(p.Detail, tt.wantDetail) {
					t.Errorf("problem detail = %q, want it to contain %q", p.Detail, tt.wantDetail)
				}
				if p.Instance != strings.Split(tt.path, "?")[0] {
					t.Errorf("problem instance = %q, want the request path", p.Instance)
				}
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body = %s, want it to contain %s", rec.Body, tt.wantBody)
			}
			if calls := f.Calls()[before:]; tt.notCalled && len(calls) > 0 {
				t.Errorf("the Service was called (%v); a rejected request must change nothing", calls)
			}
		})
	}
}

func seedOnly(t *testing.T, f *apitest.Fake)         { seed(t, f) }
func instantiatedOnly(t *testing.T, f *apitest.Fake) { instantiated(t, f) }
func failedTempOnly(t *testing.T, f *apitest.Fake)   { failedTempOp(t, f) }

func vnfdsOnly(t *testing.T, f *apitest.Fake) {
	t.Helper()
	for _, doc := range []string{vnfdFW, vnfdLB} {
		if _, err := f.OnboardVNFD(context.Background(), []byte(doc)); err != nil {
			t.Fatal(err)
		}
	}
}

func vnfdsAndNSD(t *testing.T, f *apitest.Fake) {
	t.Helper()
	vnfdsOnly(t, f)
	if _, err := f.OnboardNSD(context.Background(), []byte(nsdWeb)); err != nil {
		t.Fatal(err)
	}
}

// busy leaves an instantiation running on ns-1 (op-2).
func busy(t *testing.T, f *apitest.Fake) {
	t.Helper()
	ns := seed(t, f)
	if _, err := f.Instantiate(context.Background(), ns.ID, nfvo.InstantiateRequest{}); err != nil {
		t.Fatal(err)
	}
}

func subscribed(t *testing.T, f *apitest.Fake) {
	t.Helper()
	if _, err := f.CreateSubscription(context.Background(), nfvo.Subscription{CallbackURI: "http://oss.example/notify"}); err != nil {
		t.Fatal(err)
	}
}

// TestErrorClasses checks the mapping of every error class to a status and
// problem type, whichever method returns it and however it is wrapped.
func TestErrorClasses(t *testing.T) {
	validation := &descriptors.ValidationError{Problems: []descriptors.Problem{
		{Path: "vdu[0].id", Reason: "must not be empty"},
		{Path: "df[0].vdu-profile[1].vdu-id", Reason: `refers to unknown VDU "db"`},
	}}
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantType   string
		wantDetail string
		wantErrors []nfvo.FieldProblem
	}{
		{"not found", fmt.Errorf("get: %w", nfvo.ErrNotFound), 404, api.ProblemTypeNotFound, "get: not found", nil},
		{"conflict", fmt.Errorf("dup: %w", nfvo.ErrConflict), 409, api.ProblemTypeConflict, "dup: conflict", nil},
		{"busy", fmt.Errorf("scale: %w", &nfvo.BusyError{NsID: "ns-1", OpID: "op-7", Type: nfvo.OpHeal}), 409, api.ProblemTypeBusy,
			"NS instance ns-1 is busy with HEAL operation op-7", nil},
		{"wrong state", fmt.Errorf("x: %w", nfvo.ErrState), 409, api.ProblemTypeState, "x: wrong state", nil},
		{"invalid", fmt.Errorf("bad: %w", nfvo.ErrInvalid), 422, api.ProblemTypeInvalid, "bad: invalid", nil},
		{"validation", fmt.Errorf("onboard VNFD: %w", validation), 422, api.ProblemTypeInvalid,
			"onboard VNFD: descriptor has 2 problems, listed in errors", []nfvo.FieldProblem{
				{Path: "vdu[0].id", Reason: "must not be empty"},
				{Path: "df[0].vdu-profile[1].vdu-id", Reason: `refers to unknown VDU "db"`},
			}},
		{"validation and invalid", fmt.Errorf("%w: %w", nfvo.ErrInvalid, validation), 422, api.ProblemTypeInvalid, "", []nfvo.FieldProblem{
			{Path: "vdu[0].id", Reason: "must not be empty"},
			{Path: "df[0].vdu-profile[1].vdu-id", Reason: `refers to unknown VDU "db"`},
		}},
		{"descriptor syntax", fmt.Errorf("onboard: line 3: %w", descriptors.ErrInvalid), 422, api.ProblemTypeInvalid, "line 3", nil},
		{"internal", errors.New("bolt: database file /var/lib/stitch/db is locked"), 500, api.ProblemTypeInternal, "internal error", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			f := apitest.New()
			f.SetError("OnboardVNFD", tt.err)
			h := api.NewHandler(f, slog.New(slog.NewJSONHandler(&logs, nil)))
			rec := serve(h, "POST", "/vnfpkgm/v1/vnf_packages", vnfdFW)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", rec.Code, tt.wantStatus)
			}
			p := decodeProblem(t, rec)
			if p.Type != tt.wantType || p.Title != http.StatusText(tt.wantStatus) {
				t.Errorf("type, title = %q, %q; want %q, %q", p.Type, p.Title, tt.wantType, http.StatusText(tt.wantStatus))
			}
			if !strings.Contains(p.Detail, tt.wantDetail) {
				t.Errorf("detail = %q, want it to contain %q", p.Detail, tt.wantDetail)
			}
			if !slices.Equal(p.Errors, tt.wantErrors) {
				t.Errorf("errors = %+v, want %+v", p.Errors, tt.wantErrors)
			}
			// Internal errors are logged, and only logged: their text can
			// name files and hosts.
			if tt.wantStatus == 500 {
				if strings.Contains(rec.Body.String(), "bolt") {
					t.Errorf("internal error leaked to the client: %s", rec.Body)
				}
				if !strings.Contains(logs.String(), "database file /var/lib/stitch/db is locked") {
					t.Errorf("internal error not logged: %s", logs.String())
				}
			}
		})
	}
}

func TestRequestLog(t *testing.T) {
	var logs bytes.Buffer
	h := api.NewHandler(apitest.New(), slog.New(slog.NewJSONHandler(&logs, nil)))
	serve(h, "GET", "/nslcm/v1/ns_instances/ns-4", "")

	var entry map[string]any
	if err := json.Unmarshal(logs.Bytes(), &entry); err != nil {
		t.Fatalf("log line %q: %v", logs.String(), err)
	}
	for k, want := range map[string]any{"msg": "http request", "method": "GET", "path": "/nslcm/v1/ns_instances/ns-4",
		"pattern": "GET /nslcm/v1/ns_instances/{nsInstanceId}", "status": float64(404)} {
		if entry[k] != want {
			t.Errorf("log %s = %v, want %v", k, entry[k], want)
		}
	}
	if _, ok := entry["duration"]; !ok {
		t.Errorf("log has no duration: %v", entry)
	}
}

func TestMethodNotAllowedKeepsAllow(t *testing.T) {
	rec := serve(api.NewHandler(apitest.New(), nil), "PATCH", "/nslcm/v1/subscriptions", "")
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("status = %d", rec.Code)
	}
	if got := rec.Header().Get("Allow"); !strings.Contains(got, "GET") || !strings.Contains(got, "POST") {
		t.Errorf("Allow = %q, want GET and POST", got)
	}
}

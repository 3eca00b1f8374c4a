package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

func newClient(t *testing.T, f *apitest.Fake) *api.Client {
	t.Helper()
	srv := httptest.NewServer(api.NewHandler(f, nil))
	t.Cleanup(srv.Close)
	return &api.Client{BaseURL: srv.URL + "/", HTTP: srv.Client()} // a trailing slash must not matter
}

// TestClientLifecycle drives every route through the client, in the order
// an operator would.
func TestClientLifecycle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newClient(t, apitest.New())
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	must(c.Health(ctx))
	fw, err := c.OnboardVNFD(ctx, []byte(vnfdFW))
	must(err)
	lb, err := c.OnboardVNFD(ctx, []byte(vnfdLB))
	must(err)
	if fw.ID != "fw:1.0" || lb.ID != "lb:2.1" || len(lb.Warnings) != 1 {
		t.Fatalf("onboarded %+v, %+v", fw, lb)
	}
	vnfds, err := c.ListVNFDs(ctx)
	must(err)
	if len(vnfds) != 2 {
		t.Errorf("ListVNFDs = %d items", len(vnfds))
	}
	got, err := c.GetVNFD(ctx, "fw")
	must(err)
	if got.ProductName != "Firewall" {
		t.Errorf("GetVNFD = %+v", got)
	}
	doc, err := c.GetVNFDDocument(ctx, "fw:1.0")
	must(err)
	if !strings.Contains(string(doc), `"provider":"acme"`) {
		t.Errorf("GetVNFDDocument = %s", doc)
	}

	nsd, err := c.OnboardNSD(ctx, []byte(nsdWeb))
	must(err)
	nsds, err := c.ListNSDs(ctx)
	must(err)
	if _, err := c.GetNSD(ctx, nsd.ID); err != nil || len(nsds) != 1 {
		t.Errorf("GetNSD: %v; ListNSDs = %d items", err, len(nsds))
	}
	if doc, err := c.GetNSDDocument(ctx, "web"); err != nil || !json.Valid(doc) {
		t.Errorf("GetNSDDocument = %s, %v", doc, err)
	}

	ns, err := c.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "web", Name: "web-1", Description: "the web service"})
	must(err)
	list, err := c.ListNS(ctx)
	must(err)
	if len(list) != 1 || list[0].Description != "the web service" {
		t.Errorf("ListNS = %+v", list)
	}

	waitDone := func(op nfvo.LcmOpOcc) nfvo.LcmOpOcc {
		t.Helper()
		for !op.OperationState.Final() && op.OperationState != nfvo.OpFailedTemp {
			op, err = c.GetOp(ctx, op.ID)
			must(err)
		}
		return op
	}
	op, err := c.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{FlavourID: "small"})
	must(err)
	if op = waitDone(op); op.OperationState != nfvo.OpCompleted || len(op.Steps) == 0 {
		t.Fatalf("instantiate ended %+v", op)
	}
	if ns, err = c.GetNS(ctx, ns.ID); err != nil || ns.State != nfvo.NsInstantiated {
		t.Fatalf("GetNS = %+v, %v", ns, err)
	}

	op, err = c.Scale(ctx, ns.ID, nfvo.ScaleRequest{ScaleType: "SCALE_VNF", ScaleVnfData: nfvo.ScaleVnfData{
		VnfProfileID: "fw", ScaleVnfType: "SCALE_OUT", AspectID: "sessions", NumberOfSteps: 2}})
	must(err)
	waitDone(op)
	op, err = c.Heal(ctx, ns.ID, nfvo.HealRequest{VnfProfileID: "fw"})
	must(err)
	waitDone(op)
	op, err = c.Terminate(ctx, ns.ID, nfvo.TerminateRequest{GracefulTerminationTimeout: 5})
	must(err)
	waitDone(op)

	ops, err := c.ListOps(ctx, ns.ID)
	must(err)
	var types []nfvo.OpType
	for _, o := range ops {
		types = append(types, o.LcmOperationType)
	}
	if want := []nfvo.OpType{nfvo.OpInstantiate, nfvo.OpScale, nfvo.OpHeal, nfvo.OpTerminate}; !slices.Equal(types, want) {
		t.Errorf("ListOps = %v, want %v", types, want)
	}
	if all, err := c.ListOps(ctx, ""); err != nil || len(all) != 4 {
		t.Errorf("ListOps(all) = %d, %v", len(all), err)
	}

	must(c.DeleteNS(ctx, ns.ID))
	must(c.DeleteNSD(ctx, "web:1.0"))
	must(c.DeleteVNFD(ctx, "fw"))

	sub, err := c.CreateSubscription(ctx, nfvo.Subscription{ID: "ignored", CallbackURI: "https://oss.example/n", NsInstanceIDs: []string{"ns-1"}})
	must(err)
	if sub.ID == "ignored" || sub.CreatedAt.IsZero() {
		t.Errorf("CreateSubscription = %+v: id and time are the server's", sub)
	}
	if s, err := c.GetSubscription(ctx, sub.ID); err != nil || s.CallbackURI != sub.CallbackURI {
		t.Errorf("GetSubscription = %+v, %v", s, err)
	}
	subs, err := c.ListSubscriptions(ctx)
	must(err)
	if len(subs) != 1 {
		t.Errorf("ListSubscriptions = %+v", subs)
	}
	must(c.DeleteSubscription(ctx, sub.ID))
}

// TestClientFailedTempDecisions: retry, rollback and fail through the client.
func TestClientFailedTempDecisions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		call func(*api.Client, context.Context, string) (nfvo.LcmOpOcc, error)
		want nfvo.OpState
	}{
		{"retry", (*api.Client).RetryOp, nfvo.OpCompleted},
		{"rollback", (*api.Client).RollbackOp, nfvo.OpRolledBack},
		{"fail", (*api.Client).FailOp, nfvo.OpFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			f := apitest.New()
			failed := failedTempOp(t, f)
			if failed.Error == nil || !strings.Contains(failed.Error.Detail, "no capacity") {
				t.Fatalf("FAILED_TEMP op has error %+v", failed.Error)
			}
			c := newClient(t, f)
			op, err := tc.call(c, ctx, failed.ID)
			if err != nil {
				t.Fatal(err)
			}
			for !op.OperationState.Final() {
				if op, err = c.GetOp(ctx, op.ID); err != nil {
					t.Fatal(err)
				}
			}
			if op.OperationState != tc.want {
				t.Errorf("ended in %s, want %s", op.OperationState, tc.want)
			}
		})
	}
}

// TestClientErrors: error answers become *APIError, which matches nfvo's
// error classes like the orchestrator's own errors do.
func TestClientErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantIs     error
		wantText   string
	}{
		{"not found", fmt.Errorf("NS instance %q: %w", "ns-9", nfvo.ErrNotFound), 404, nfvo.ErrNotFound,
			`NS instance "ns-9": not found (HTTP 404)`},
		{"busy", &nfvo.BusyError{NsID: "ns-1", OpID: "op-3", Type: nfvo.OpScale}, 409, nfvo.ErrConflict,
			"NS instance ns-1 is busy with SCALE operation op-3 (HTTP 409)"},
		{"wrong state", fmt.Errorf("not instantiated: %w", nfvo.ErrState), 409, nfvo.ErrState, "not instantiated: wrong state (HTTP 409)"},
		{"validation", fmt.Errorf("onboard: %w", &descriptors.ValidationError{Problems: []descriptors.Problem{
			{Path: "vdu[0].id", Reason: "must not be empty"}, {Path: "df", Reason: "at least one flavour"}}}), 422, nfvo.ErrInvalid,
			"onboard: descriptor has 2 problems, listed in errors (HTTP 422); vdu[0].id: must not be empty; df: at least one flavour"},
		{"internal", errors.New("disk on fire"), 500, nil, "internal error (HTTP 500)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := apitest.New()
			f.SetError("GetNS", tt.err)
			_, err := newClient(t, f).GetNS(t.Context(), "ns-1")
			apiErr, ok := errors.AsType[*api.APIError](err)
			if !ok {
				t.Fatalf("err = %v (%T), want *api.APIError", err, err)
			}
			if apiErr.Status != tt.wantStatus || apiErr.Problem.Status != tt.wantStatus {
				t.Errorf("status %d / problem status %d, want %d", apiErr.Status, apiErr.Problem.Status, tt.wantStatus)
			}
			if err.Error() != tt.wantText {
				t.Errorf("Error() = %q\nwant      %q", err, tt.wantText)
			}
			for _, class := range []error{nfvo.ErrNotFound, nfvo.ErrConflict, nfvo.ErrState, nfvo.ErrInvalid} {
				if got := errors.Is(err, class); got != (class == tt.wantIs) {
					t.Errorf("errors.Is(err, %v) = %v", class, got)
				}
			}
		})
	}
}

// TestClientNonProblemAnswer: an answer that is not problem details (a
// proxy's page) still becomes an *APIError with something to show.
func TestClientNonProblemAnswer(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "upstream connect error", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	_, err := (&api.Client{BaseURL: srv.URL}).ListNS(t.Context())
	apiErr, ok := errors.AsType[*api.APIError](err)
	if !ok || apiErr.Status != http.StatusBadGateway {
		t.Fatalf("err = %v, want a 502 *api.APIError", err)
	}
	if got := err.Error(); got != "upstream connect error (HTTP 502)" {
		t.Errorf("Error() = %q", got)
	}
	if errors.Is(err, nfvo.ErrNotFound) || errors.Is(err, nfvo.ErrConflict) {
		t.Error("a 502 must not match an nfvo error class")
	}
}

// TestClientTransportError: a server that is not there is an error that
// names the request, and not an *APIError.
func TestClientTransportError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := (&api.Client{BaseURL: url}).GetOp(t.Context(), "op-1")
	if err == nil || !strings.Contains(err.Error(), "GET "+url+"/nslcm/v1/ns_lcm_op_occs/op-1") {
		t.Fatalf("err = %v", err)
	}
	if _, ok := errors.AsType[*api.APIError](err); ok {
		t.Error("a transport failure must not look like an API answer")
	}
}

// TestClientEscapesIDs: ids are path-escaped, so an id with a slash
// cannot address another resource.
func TestClientEscapesIDs(t *testing.T) {
	t.Parallel()
	f := apitest.New()
	_, err := newClient(t, f).GetVNFD(t.Context(), "fw/../../nslcm")
	if !errors.Is(err, nfvo.ErrNotFound) {
		t.Fatalf("err = %v, want not found", err)
	}
	if calls := f.Calls(); !slices.Equal(calls, []string{"GetVNFD"}) {
		t.Errorf("calls = %v, want the VNFD lookup", calls)
	}
}

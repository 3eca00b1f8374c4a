package daemon

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/nfvo/api"
)

// snapshot is everything the API can list, to show that a refused request
// changed nothing.
type snapshot struct {
	vnfds, nsds, ns, ops int
}

func take(t *testing.T, c *api.Client) snapshot {
	t.Helper()
	ctx := context.Background()
	v, err1 := c.ListVNFDs(ctx)
	n, err2 := c.ListNSDs(ctx)
	i, err3 := c.ListNS(ctx)
	o, err4 := c.ListOps(ctx, "")
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		t.Fatal(err)
	}
	return snapshot{len(v), len(n), len(i), len(o)}
}

func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	cfg := testConfig(t)
	d, c := startInProcess(t, cfg)
	ctx := context.Background()
	onboardExamples(t, c)
	ns, err := c.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "microservices", Name: "bad-input"})
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join("..", "..", "examples", "vnfd", "web.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(good), "id: stitch-web", "id: Stitch Web!", 1)
	broken = strings.Replace(broken, "port: 8080", "port: 70000", 1)

	raw := func(method, path, body string) func() error {
		return func() error {
			req, _ := http.NewRequest(method, c.BaseURL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode >= 400 {
				return &api.APIError{Status: resp.StatusCode}
			}
			return nil
		}
	}
	tests := []struct {
		name       string
		call       func() error
		status     int
		detailHas  string
		fieldPaths []string
	}{
		{
			name:   "broken descriptor lists every problem with its path",
			call:   func() error { _, err := c.OnboardVNFD(ctx, []byte(broken)); return err },
			status: http.StatusUnprocessableEntity, fieldPaths: []string{"vnfd.id", "vnfd.vdu[0].health-check.port"},
		},
		{
			name:   "not a descriptor at all",
			call:   func() error { _, err := c.OnboardVNFD(ctx, []byte("{{{ nope")); return err },
			status: http.StatusUnprocessableEntity,
		},
		{
			name:   "unknown NSD",
			call:   func() error { _, err := c.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "nope", Name: "x"}); return err },
			status: http.StatusNotFound,
		},
		{
			name:   "unknown NS instance",
			call:   func() error { _, err := c.Instantiate(ctx, "no-such-ns", nfvo.InstantiateRequest{}); return err },
			status: http.StatusNotFound,
		},
		{
			name:   "malformed body",
			call:   raw(http.MethodPost, "/nslcm/v1/ns_instances", `{"nsdId": `),
			status: http.StatusBadRequest,
		},
		{
			name:   "unknown field in a body",
			call:   raw(http.MethodPost, "/nslcm/v1/ns_instances", `{"nsdId":"microservices","nsName":"x","colour":"red"}`),
			status: http.StatusBadRequest,
		},
		{
			name: "scale before instantiate",
			call: func() error {
				_, err := c.Scale(ctx, ns.ID, nfvo.ScaleRequest{ScaleType: "SCALE_VNF", ScaleVnfData: nfvo.ScaleVnfData{
					VnfProfileID: "backend", ScaleVnfType: "SCALE_OUT", AspectID: "backend-scale"}})
				return err
			},
			status: http.StatusConflict, detailHas: "NOT_INSTANTIATED",
		},
		{
			name:   "terminate before instantiate",
			call:   func() error { _, err := c.Terminate(ctx, ns.ID, nfvo.TerminateRequest{}); return err },
			status: http.StatusConflict,
		},
		{
			name:   "bad scale type",
			call:   func() error { _, err := c.Scale(ctx, ns.ID, nfvo.ScaleRequest{ScaleType: "SCALE_NS"}); return err },
			status: http.StatusUnprocessableEntity,
		},
		{
			name:   "VNFD in use",
			call:   func() error { return c.DeleteVNFD(ctx, "stitch-web") },
			status: http.StatusConflict, detailHas: "used by",
		},
		{
			name:   "NSD in use",
			call:   func() error { return c.DeleteNSD(ctx, "microservices") },
			status: http.StatusConflict, detailHas: "used by NS instance",
		},
		{
			name:   "retry of an unknown operation",
			call:   func() error { _, err := c.RetryOp(ctx, "nope"); return err },
			status: http.StatusNotFound,
		},
	}
	before := take(t, c)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var apiErr *api.APIError
			if !errors.As(err, &apiErr) || apiErr.Status != tc.status {
				t.Fatalf("err = %v, want HTTP %d", err, tc.status)
			}
			if !strings.Contains(apiErr.Problem.Detail, tc.detailHas) {
				t.Errorf("detail %q lacks %q", apiErr.Problem.Detail, tc.detailHas)
			}
			for _, p := range tc.fieldPaths {
				found := false
				for _, fe := range apiErr.Problem.Errors {
					found = found || fe.Path == p
				}
				if !found {
					t.Errorf("no field error at %s in %+v", p, apiErr.Problem.Errors)
				}
			}
			if after := take(t, c); after != before {
				t.Fatalf("a refused request changed state: %+v → %+v", before, after)
			}
		})
	}

	t.Run("a second operation on a busy instance is refused naming the first", func(t *testing.T) {
		op, err := c.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
		if err != nil {
			t.Fatal(err)
		}
		// The instance is held from the moment the call returns until the
		// programs are up, far longer than this next call takes.
		_, err = c.Terminate(ctx, ns.ID, nfvo.TerminateRequest{})
		var apiErr *api.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusConflict || !strings.Contains(apiErr.Problem.Detail, op.ID) {
			t.Fatalf("err = %v, want 409 naming %s", err, op.ID)
		}
		mustComplete(t, c, op, nil)
		term, err := c.Terminate(ctx, ns.ID, nfvo.TerminateRequest{GracefulTerminationTimeout: 1})
		mustComplete(t, c, term, err)
		if leaks, err := d.VIM.Leaks(ctx); err != nil || len(leaks) != 0 {
			t.Fatalf("leaks: %v, %v", leaks, err)
		}
	})
}

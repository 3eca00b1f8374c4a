package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/nfvo/api"
)

// flakyVNFD starts a key-value database only once a marker file exists,
// else exits with code 3; "stuck" never becomes healthy.
const flakyVNFD = `
vnfd:
  id: flaky
  version: "1.0"
  kind: microservice
  vdu:
    - id: db
      int-cpd: [{id: data}]
      program:
        path: sh
        args: ["-c", "%s"]
        env: {MARKER: "%s"}
      health-check: {type: http, cpd: data, port: 8080, path: /healthz}
  ext-cpd:
    - id: data
      int-cpd: {vdu-id: db, cpd: data}
      ports: [{port: 8080}]
  df:
    - id: default
      vdu-profile: [{id: db, min-number-of-instances: 1, max-number-of-instances: 2}]
`

const flakyNSD = `
nsd:
  nsd:
    - id: flaky-ns
      version: "1.0"
      vnfd-id: [flaky]
      virtual-link-desc: [{id: net, cidr: 10.30.0.0/24}]
      df:
        - id: default
          virtual-link-profile: [{id: net, virtual-link-desc-id: net}]
          vnf-profile:
            - id: db
              vnfd-id: flaky
              virtual-link-connectivity:
                - virtual-link-profile-id: net
                  constituent-cpd-id: [{constituent-base-element-id: db, constituent-cpd-id: data}]
`

func onboardFlaky(t testing.TB, c *api.Client, script, marker string) {
	t.Helper()
	ctx := context.Background()
	if _, err := c.OnboardVNFD(ctx, []byte(fmt.Sprintf(flakyVNFD, script, marker))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.OnboardNSD(ctx, []byte(flakyNSD)); err != nil {
		t.Fatal(err)
	}
}

func failedTemp(t testing.TB, c *api.Client, op nfvo.LcmOpOcc, err error) nfvo.LcmOpOcc {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	got := waitOp(t, c, op.ID, 60*time.Second)
	if got.OperationState != nfvo.OpFailedTemp || got.Error == nil {
		t.Fatalf("operation ended %s (%+v), want FAILED_TEMP with an error", got.OperationState, got.Error)
	}
	return got
}

func TestFailedOperationIsRetriedOrRolledBack(t *testing.T) {
	cfg := testConfig(t)
	d, c := startInProcess(t, cfg)
	ctx := context.Background()
	marker := filepath.Join(t.TempDir(), "ready")
	onboardFlaky(t, c, `test -f $MARKER || exit 3; exec stitch-kvdb --listen ${STITCH_ADDR_DATA}:8080`, marker)

	t.Run("retry resumes once the cause is fixed", func(t *testing.T) {
		ns, err := c.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "flaky-ns", Name: "retry"})
		if err != nil {
			t.Fatal(err)
		}
		hook := newWebhook(t)
		if _, err := c.CreateSubscription(ctx, nfvo.Subscription{CallbackURI: hook.url, NsInstanceIDs: []string{ns.ID}}); err != nil {
			t.Fatal(err)
		}
		defer func() {
			want := []nfvo.OpState{nfvo.OpStarting, nfvo.OpProcessing, nfvo.OpFailedTemp, nfvo.OpCompleted}
			waitFor(t, 5*time.Second, func() bool { return hook.saw(ns.ID, want...) })
		}()
		op, err := c.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
		failed := failedTemp(t, c, op, err)
		t.Logf("failed as expected: %s", failed.Error.Detail)
		if err := os.WriteFile(marker, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(marker)
		retried, err := c.RetryOp(ctx, op.ID)
		if err != nil || retried.OperationState != nfvo.OpProcessing {
			t.Fatalf("retry: %s, %v", retried.OperationState, err)
		}
		mustComplete(t, c, op, nil)
		got, _ := c.GetNS(ctx, ns.ID)
		if got.State != nfvo.NsInstantiated || len(got.Vnfcs) != 1 || got.Vnfcs[0].State != nfvo.VnfcHealthy {
			t.Fatalf("after retry: %s with %+v", got.State, got.Vnfcs)
		}
		term, err := c.Terminate(ctx, ns.ID, nfvo.TerminateRequest{GracefulTerminationTimeout: 1})
		mustComplete(t, c, term, err)
	})

	t.Run("rollback removes what the failed operation built", func(t *testing.T) {
		ns, err := c.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "flaky-ns", Name: "rollback"})
		if err != nil {
			t.Fatal(err)
		}
		op, err := c.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
		failedTemp(t, c, op, err)
		if _, err := c.RollbackOp(ctx, op.ID); err != nil {
			t.Fatal(err)
		}
		done := waitOp(t, c, op.ID, 60*time.Second)
		if done.OperationState != nfvo.OpRolledBack {
			t.Fatalf("rollback ended %s: %+v", done.OperationState, done.Error)
		}
		got, _ := c.GetNS(ctx, ns.ID)
		if got.State != nfvo.NsNotInstantiated || len(got.Vnfcs) != 0 || got.CurrentOp != "" {
			t.Fatalf("after rollback: %s, %d instances, op %q", got.State, len(got.Vnfcs), got.CurrentOp)
		}
		if _, err := c.RetryOp(ctx, op.ID); !isStatus(err, 409) {
			t.Fatalf("retry of a rolled-back operation: %v, want 409", err)
		}
	})

	if leaks, err := d.VIM.Leaks(ctx); err != nil || len(leaks) != 0 {
		t.Fatalf("leaks: %v, %v", leaks, err)
	}
}

func TestForcedTerminateSupersedesARunningOperation(t *testing.T) {
	cfg := testConfig(t)
	d, c := startInProcess(t, cfg)
	ctx := context.Background()
	// Never healthy: nothing listens on the probed port.
	onboardFlaky(t, c, `exec sleep 600`, "unused")
	ns, err := c.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "flaky-ns", Name: "stuck"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := c.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool {
		got, _ := c.GetNS(ctx, ns.ID)
		return len(got.Vnfcs) == 1 && got.Vnfcs[0].State == nfvo.VnfcStarting
	})
	if _, err := c.Terminate(ctx, ns.ID, nfvo.TerminateRequest{}); !isStatus(err, 409) {
		t.Fatalf("unforced terminate of a busy instance: %v, want 409", err)
	}
	term, err := c.Terminate(ctx, ns.ID, nfvo.TerminateRequest{Force: true, GracefulTerminationTimeout: 1})
	mustComplete(t, c, term, err)
	if old, _ := c.GetOp(ctx, op.ID); old.OperationState != nfvo.OpFailed {
		t.Fatalf("superseded operation is %s, want FAILED", old.OperationState)
	}
	got, _ := c.GetNS(ctx, ns.ID)
	if got.State != nfvo.NsNotInstantiated || len(got.Vnfcs) != 0 {
		t.Fatalf("after forced terminate: %s with %d instances", got.State, len(got.Vnfcs))
	}
	if pids := processesWithEnv("STITCH_NS_INSTANCE", ns.ID); len(pids) != 0 {
		t.Fatalf("processes left: %v", pids)
	}
	if leaks, err := d.VIM.Leaks(ctx); err != nil || len(leaks) != 0 {
		t.Fatalf("leaks: %v, %v", leaks, err)
	}
}

func waitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// webhook collects LCM notifications posted to it.
type webhook struct {
	url string
	mu  sync.Mutex
	got []nfvo.Notification
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var n nfvo.Notification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.got = append(w.got, n)
		w.mu.Unlock()
		rw.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

// saw reports whether notifications of every state arrived for nsID.
func (w *webhook) saw(nsID string, states ...nfvo.OpState) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range states {
		if !slices.ContainsFunc(w.got, func(n nfvo.Notification) bool {
			return n.NsInstanceID == nsID && n.OperationState == s &&
				n.NotificationType == "NsLcmOperationOccurrenceNotification"
		}) {
			return false
		}
	}
	return true
}

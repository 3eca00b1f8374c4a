package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/stitchnfv/stitch/descriptors"
	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/nfvo/api"
	"github.com/stitchnfv/stitch/nfvo/api/apitest"
)

const (
	vnfdFW = "id: fw\nversion: \"1.0\"\nprovider: acme\nproduct-name: Firewall\nvdu: [{id: main}]\n"
	vnfdLB = "id: lb\nversion: \"2.1\"\nx-vendor-extension: true\n"
	nsdWeb = "id: web\nversion: \"1.0\"\nname: Web service\nvnfd-id: [fw, lb]\n"
)

// testEnv is a stitchctl pointed at the API over the fake orchestrator.
type testEnv struct {
	fake *apitest.Fake
	url  string
	dir  string
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	f := apitest.New()
	srv := httptest.NewServer(api.NewHandler(f, nil))
	t.Cleanup(srv.Close)
	return &testEnv{fake: f, url: srv.URL, dir: t.TempDir()}
}

type result struct {
	out, err string
	code     int
}

func (e *testEnv) run(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), append([]string{"--server", e.url}, args...), &out, &errOut)
	return result{out: out.String(), err: errOut.String(), code: code}
}

// ok runs a command that must succeed.
func (e *testEnv) ok(t *testing.T, args ...string) result {
	t.Helper()
	r := e.run(t, args...)
	if r.code != 0 {
		t.Fatalf("stitchctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r
}

func (e *testEnv) file(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// seed onboards the catalog and creates NS instance ns-1.
func (e *testEnv) seed(t *testing.T) {
	t.Helper()
	e.ok(t, "vnfd", "onboard", e.file(t, "fw.yaml", vnfdFW), e.file(t, "lb.yaml", vnfdLB))
	e.ok(t, "nsd", "onboard", e.file(t, "web.yaml", nsdWeb))
	e.ok(t, "ns", "create", "--nsd", "web", "--name", "web-1")
}

// lines splits output into lines with runs of spaces collapsed, so table
// assertions do not depend on column widths.
func lines(s string) []string {
	space := regexp.MustCompile(` {2,}`)
	var out []string
	for l := range strings.SplitSeq(strings.TrimRight(s, "\n"), "\n") {
		out = append(out, space.ReplaceAllString(strings.TrimSpace(l), " | "))
	}
	return out
}

func TestVnfdOnboardAndList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.ok(t, "vnfd", "onboard", e.file(t, "fw.yaml", vnfdFW), e.file(t, "lb.yaml", vnfdLB))
	got := lines(r.out)
	if want := "ID | VNFD | VERSION | KIND | PROVIDER | PRODUCT | ONBOARDED"; got[0] != want {
		t.Errorf("header = %q, want %q", got[0], want)
	}
	if len(got) != 3 || !strings.HasPrefix(got[1], "fw:1.0 | fw | 1.0 | vnf | acme | Firewall | ") ||
		!strings.HasPrefix(got[2], "lb:2.1 | lb | 2.1 | vnf | - | - | ") {
		t.Errorf("table:\n%s", r.out)
	}
	// Warnings go to stderr, naming the file.
	if want := "warning: " + filepath.Join(e.dir, "lb.yaml") + ": x-vendor-extension: field not used by stitch\n"; r.err != want {
		t.Errorf("stderr = %q, want %q", r.err, want)
	}

	r = e.ok(t, "vnfd", "list")
	if got := lines(r.out); len(got) != 3 || got[1][:6] != "fw:1.0" {
		t.Errorf("list:\n%s", r.out)
	}

	r = e.ok(t, "-o", "json", "vnfd", "list")
	var infos []nfvo.VnfdInfo
	if err := json.Unmarshal([]byte(r.out), &infos); err != nil || len(infos) != 2 || infos[0].Provider != "acme" {
		t.Errorf("json list = %s (%v)", r.out, err)
	}

	r = e.ok(t, "vnfd", "show", "fw", "-o", "yaml")
	var info nfvo.VnfdInfo
	if err := yaml.Unmarshal([]byte(r.out), &info); err != nil || info.ID != "fw:1.0" || !strings.Contains(r.out, "product-name: Firewall") {
		t.Errorf("yaml show = %s (%v)", r.out, err)
	}

	r = e.ok(t, "vnfd", "show", "lb:2.1")
	if !strings.Contains(r.out, "Warnings:") || !strings.Contains(r.out, "x-vendor-extension: field not used by stitch") {
		t.Errorf("show:\n%s", r.out)
	}
}

func TestOnboardFromStdinAndEmptyList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.ok(t, "-o", "json", "nsd", "list")
	if strings.TrimSpace(r.out) != "[]" {
		t.Errorf("empty json list = %q, want []", r.out)
	}
	root := newRootCmd(new(bytes.Buffer), new(bytes.Buffer))
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetIn(strings.NewReader(vnfdFW))
	root.SetArgs([]string{"--server", e.url, "vnfd", "onboard", "-"})
	if err := root.ExecuteContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.GetVNFD(t.Context(), "fw:1.0"); err != nil {
		t.Errorf("onboarding from stdin: %v", err)
	}
}

func TestOnboardReportsEachBadFile(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bad := e.file(t, "bad.yaml", "version: \"1\"\n")
	r := e.run(t, "vnfd", "onboard", bad, e.file(t, "fw.yaml", vnfdFW), filepath.Join(e.dir, "missing.yaml"))
	if r.code != exitFailed {
		t.Fatalf("exit %d, want 1", r.code)
	}
	if !strings.Contains(r.err, "Error: "+bad+": onboard VNFD: descriptor has no id: invalid (HTTP 422)") {
		t.Errorf("stderr:\n%s", r.err)
	}
	if !strings.Contains(r.err, "missing.yaml: read descriptor:") || !strings.Contains(r.err, "2 of 3 VNFD documents were not onboarded") {
		t.Errorf("stderr:\n%s", r.err)
	}
	if !strings.Contains(r.out, "fw:1.0") {
		t.Errorf("the good file was not onboarded:\n%s", r.out)
	}
}

func TestValidationProblemsListed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fake.SetError("OnboardVNFD", fmt.Errorf("onboard VNFD: %w", &descriptors.ValidationError{Problems: []descriptors.Problem{
		{Path: "vdu[0].id", Reason: "must not be empty"},
		{Path: "df[0].vdu-profile[0].vdu-id", Reason: `refers to unknown VDU "db"`},
	}}))
	r := e.run(t, "vnfd", "onboard", e.file(t, "fw.yaml", vnfdFW))
	want := "Error: " + filepath.Join(e.dir, "fw.yaml") + ": onboard VNFD: descriptor has 2 problems, listed in errors (HTTP 422)\n" +
		"  vdu[0].id: must not be empty\n" +
		"  df[0].vdu-profile[0].vdu-id: refers to unknown VDU \"db\"\n"
	if r.code != exitFailed || !strings.HasPrefix(r.err, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant prefix:\n%s", r.code, r.err, want)
	}
}

func TestNsShowExplainsPlacement(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(t)
	e.ok(t, "ns", "instantiate", "ns-1", "--watch")
	e.fake.AddVnfc(nfvo.Vnfc{ID: "ns-1-fw-main-0", NsID: "ns-1", Profile: "fw", VDU: "main", Site: "edge-a",
		Placement: "edge-a: lowest latency to the SAP (score 0.92)", State: nfvo.VnfcHealthy,
		Addresses: map[string]string{"mgmt": "10.0.0.5", "data": "10.1.0.5"}, Slots: 100})
	e.fake.AddVnfc(nfvo.Vnfc{ID: "ns-1-lb-main-0", NsID: "ns-1", Profile: "lb", VDU: "main", Site: "core",
		Placement: "core: only site with capacity", State: nfvo.VnfcFailed, LastError: "exit status 1", LogPath: "/var/log/stitch/lb.log"})

	r := e.ok(t, "ns", "show", "ns-1")
	got := lines(r.out)
	for _, want := range []string{
		"ID: | ns-1",
		"NSD: | web:1.0",
		"VNFDs: | fw=1.0, lb=2.1",
		"State: | INSTANTIATED",
		"Desired: | instantiated (generation 1)",
		"VNFC | PROFILE | VDU | SITE | STATE | ADDRESSES | SLOTS | PLACEMENT",
		"ns-1-fw-main-0 | fw | main | edge-a | HEALTHY | data=10.1.0.5, mgmt=10.0.0.5 | 100 | edge-a: lowest latency to the SAP (score 0.92)",
		"ns-1-lb-main-0 | lb | main | core | FAILED | - | - | core: only site with capacity",
		"ns-1-lb-main-0: last error: exit status 1 (log: /var/log/stitch/lb.log)",
	} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("ns show lacks %q:\n%s", want, r.out)
		}
	}

	r = e.ok(t, "ns", "slots", "ns-1")
	if got := lines(r.out); len(got) != 2 || got[0] != "VNFC | PROFILE | SITE | MAX | AVAILABLE | IN USE | AGE | ERROR" ||
		got[1] != "ns-1-fw-main-0 | fw | edge-a | 100 | 99 | 1 | 1000ms | -" {
		t.Errorf("ns slots:\n%s", r.out)
	}

	r = e.ok(t, "ns", "routers", "ns-1")
	if got := lines(r.out); len(got) != 3 || got[0] != "ROUTER | SERVICE | INSTANCE | SHARE | FREE | WEIGHT | AGE | SESSIONS | NEW/S | REFUSED | STATE" ||
		got[1] != "ns-1-sr | svc/sap (10.0.0.100:8080/tcp) | ns-1-fw-main-0 | 100.0% | 100 | 100 | 0ms | 1 | 2.5 | - | serving" ||
		got[2] != "ns-1-sr | svc/sap (10.0.0.100:8080/tcp) | (all) | 100% | - | - | - | 1 | - | 0 | -" {
		t.Errorf("ns routers:\n%s", r.out)
	}

	r = e.ok(t, "ns", "policies", "ns-1")
	if got := lines(r.out); len(got) != 2 || got[0] != "POLICY | PROFILE | METRIC | BOUNDS | VALUE | INSTANCES | HOLD | COOLDOWN | CHANGED | VERDICT" ||
		got[1] != "slots | fw | free-slots-ratio | [0.2, 0.8] | 0.5 | 1 (1..4) | 0s | 30s | - | free-slots-ratio 0.50 within [0.20, 0.80]" {
		t.Errorf("ns policies:\n%s", r.out)
	}
	r = e.ok(t, "ns", "policy-set", "ns-1", "slots", "--cooldown", "5s", "--band-low", "0.1", "--band-high", "0.9")
	if !strings.Contains(r.out, "band, cooldown") {
		t.Errorf("ns policy-set:\n%s", r.out)
	}
	r = e.ok(t, "ns", "policies", "ns-1")
	if got := lines(r.out); len(got) != 2 || !strings.Contains(got[1], "[0.1, 0.9]") || !strings.Contains(got[1], "| 5s | band,cooldown |") {
		t.Errorf("ns policies after policy-set:\n%s", r.out)
	}

	r = e.ok(t, "ns", "telemetry", "ns-1")
	if got := lines(r.out); len(got) != 3 || got[0] != "INSTANCE | PROFILE | CONNECTED | STATUS | LAST HEARD | METRICS | ERROR" ||
		!strings.HasPrefix(got[1], "ns-1-fw-main-0 | fw | true | UP | ") || !strings.HasSuffix(got[1], " | requests=42 | -") {
		t.Errorf("ns telemetry:\n%s", r.out)
	}

	r = e.ok(t, "ns", "list")
	if got := lines(r.out); len(got) != 2 || got[0] != "ID | NAME | NSD | STATE | STATUS | VNFCS | OPERATION | CREATED" ||
		!strings.HasPrefix(got[1], "ns-1 | web-1 | web:1.0 | INSTANTIATED | HEALTHY | 2 | op-") {
		t.Errorf("ns list:\n%s", r.out)
	}
}

func TestWatchUntilCompleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(t)
	start := time.Now()
	r := e.ok(t, "ns", "instantiate", "ns-1", "--watch")
	got := lines(r.out)
	// Each line: timestamp, state, message.
	progress := regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{3} \| [A-Z_]+ \| .+$`)
	for _, l := range got[:len(got)-1] {
		if !progress.MatchString(l) {
			t.Errorf("not a progress line: %q", l)
		}
	}
	want := []string{
		"STARTING | op-2 INSTANTIATE of NS instance ns-1",
		"PROCESSING | operation started",
		"PROCESSING | STARTING -> PROCESSING",
		"PROCESSING | placed all VNFCs",
		"COMPLETED | operation completed",
		"COMPLETED | PROCESSING -> COMPLETED",
		"Operation op-2 COMPLETED.",
	}
	if len(got) != len(want) {
		t.Fatalf("watch output:\n%s", r.out)
	}
	for i := range want {
		if !strings.HasSuffix(got[i], want[i]) {
			t.Errorf("line %d = %q, want it to end with %q", i, got[i], want[i])
		}
	}
	// Three polls at the 200 ms interval.
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("watch took %v; it should poll every 200ms", d)
	}
	if ns, _ := e.fake.GetNS(t.Context(), "ns-1"); ns.State != nfvo.NsInstantiated {
		t.Errorf("NS state = %s", ns.State)
	}
}

func TestWatchJSONKeepsStdoutParseable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(t)
	r := e.ok(t, "-o", "json", "ns", "instantiate", "ns-1", "--flavour", "small", "-w")
	var op nfvo.LcmOpOcc
	if err := json.Unmarshal([]byte(r.out), &op); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.out)
	}
	var params bytes.Buffer
	_ = json.Compact(&params, op.OperationParams)
	if op.OperationState != nfvo.OpCompleted || params.String() != `{"nsFlavourId":"small"}` {
		t.Errorf("op = %+v", op)
	}
	if !strings.Contains(r.err, "PROCESSING -> COMPLETED") {
		t.Errorf("progress should be on stderr:\n%s", r.err)
	}
}

func TestWatchFailedTempAndDecisions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(t)
	e.fake.SetPlan(apitest.FailingPlan("site edge-a has no capacity left"))

	r := e.run(t, "ns", "instantiate", "ns-1", "--watch")
	if r.code != exitFailed {
		t.Fatalf("exit %d, want 1\n%s", r.code, r.out)
	}
	for _, want := range []string{
		"PROCESSING -> FAILED_TEMP",
		"Operation op-2 is FAILED_TEMP: site edge-a has no capacity left",
		"stitchctl op retry op-2 --watch",
		"stitchctl op rollback op-2 --watch",
		"stitchctl op fail op-2",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	if r.err != "Error: operation op-2 is FAILED_TEMP: site edge-a has no capacity left\n" {
		t.Errorf("stderr = %q", r.err)
	}

	// Watching it again stops at once, with the same advice.
	if r := e.run(t, "op", "watch", "op-2"); r.code != exitFailed || !strings.Contains(r.out, "op rollback op-2") {
		t.Errorf("op watch: exit %d\n%s", r.code, r.out)
	}

	// Another operation on the held instance is refused, naming the holder.
	r = e.run(t, "ns", "heal", "ns-1")
	if r.code != exitFailed || r.err != "Error: NS instance ns-1 is busy with INSTANTIATE operation op-2 (HTTP 409)\n" {
		t.Errorf("heal while busy: exit %d, stderr %q", r.code, r.err)
	}

	r = e.ok(t, "op", "retry", "op-2", "--watch")
	if !strings.Contains(r.out, "retrying") || !strings.HasSuffix(r.out, "Operation op-2 COMPLETED.\n") {
		t.Errorf("retry --watch:\n%s", r.out)
	}
	r = e.run(t, "op", "retry", "op-2")
	if r.code != exitFailed || !strings.Contains(r.err, "not FAILED_TEMP") {
		t.Errorf("retry of a completed op: exit %d, stderr %q", r.code, r.err)
	}
}

func TestRollbackAndFail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(t)
	e.fake.SetPlan(apitest.FailingPlan("boom"))
	e.run(t, "ns", "instantiate", "ns-1", "--watch")

	r := e.ok(t, "op", "rollback", "op-2", "--watch")
	if !strings.HasSuffix(r.out, "Operation op-2 ROLLED_BACK.\n") {
		t.Errorf("rollback --watch:\n%s", r.out)
	}

	e.run(t, "ns", "instantiate", "ns-1", "--watch") // op-3, FAILED_TEMP again
	r = e.ok(t, "op", "fail", "op-3")
	if r.out != "Operation op-3 (INSTANTIATE of NS instance ns-1) accepted: FAILED\nFollow it with: stitchctl op watch op-3\n" {
		t.Errorf("op fail:\n%s", r.out)
	}
	r = e.ok(t, "op", "list", "--ns", "ns-1")
	got := lines(r.out)
	if len(got) != 3 || got[0] != "ID | NS | TYPE | STATE | STARTED | STATE ENTERED | AUTO | ERROR" ||
		!strings.Contains(got[1], "op-2 | ns-1 | INSTANTIATE | ROLLED_BACK") || !strings.HasSuffix(got[2], "no | boom") {
		t.Errorf("op list:\n%s", r.out)
	}
	r = e.ok(t, "op", "show", "op-3")
	if !strings.Contains(r.out, "Error:") || !strings.Contains(r.out, "step failed") {
		t.Errorf("op show:\n%s", r.out)
	}
	// Watching a failed operation is a failure.
	if r := e.run(t, "op", "watch", "op-3"); r.code != exitFailed || r.err != "Error: operation op-3 ended FAILED: boom\n" {
		t.Errorf("op watch of FAILED: exit %d, stderr %q", r.code, r.err)
	}
}

func TestLifecycleRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed(t)
	e.ok(t, "ns", "instantiate", "ns-1", "-w")
	e.ok(t, "ns", "scale", "ns-1", "--profile", "fw", "--aspect", "sessions", "--in", "--steps", "2", "-w")
	e.ok(t, "ns", "heal", "ns-1", "--vnfc", "a,b", "--vnfc", "c", "-w")
	e.ok(t, "ns", "terminate", "ns-1", "--graceful-timeout", "1500ms", "--force", "-w")
	e.ok(t, "ns", "delete", "ns-1")

	ops, err := e.fake.ListOps(t.Context(), "ns-1")
	if err != nil || len(ops) != 4 {
		t.Fatalf("ops = %v, %v", ops, err)
	}
	for i, want := range []string{
		`{}`,
		`{"scaleType":"SCALE_VNF","scaleVnfData":{"vnfProfileId":"fw","scaleVnfType":"SCALE_IN","aspectId":"sessions","numberOfSteps":2}}`,
		`{"vnfcIds":["a","b","c"]}`,
		`{"force":true,"gracefulTerminationTimeout":2}`,
	} {
		if got := string(ops[i].OperationParams); got != want {
			t.Errorf("%s params = %s, want %s", ops[i].LcmOperationType, got, want)
		}
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"ns", "show", "nope"}, "Error: NS instance \"nope\": not found (HTTP 404)\n"},
		{[]string{"ns", "create", "--nsd", "web:9", "--name", "x"}, "Error: create NS: descriptor \"web:9\": not found (HTTP 404)\n"},
		{[]string{"vnfd", "delete", "fw"}, "Error: descriptor \"fw\": not found (HTTP 404)\n"},
		{[]string{"subscription", "create", "--callback", "oss.example"}, "Error: callbackUri \"oss.example\" is not an http(s) URL: invalid (HTTP 422)\n"},
	}
	for _, tt := range tests {
		r := e.run(t, tt.args...)
		if r.code != exitFailed || r.err != tt.wantErr || r.out != "" {
			t.Errorf("stitchctl %s: exit %d, stdout %q, stderr %q; want 1 and %q", strings.Join(tt.args, " "), r.code, r.out, r.err, tt.wantErr)
		}
	}

	e.fake.SetError("ListNS", errors.New("store is down"))
	if r := e.run(t, "ns", "list"); r.code != exitFailed || r.err != "Error: internal error (HTTP 500)\n" {
		t.Errorf("internal error: exit %d, stderr %q", r.code, r.err)
	}
}

func TestServerUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nil)
	url := srv.URL
	srv.Close()
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"--server", url, "ns", "list"}, &out, &errOut); code != exitFailed ||
		!strings.Contains(errOut.String(), "connection refused") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate" for "stitchctl"`},
		{[]string{"vnfd", "frobnicate"}, `unknown command "frobnicate" for "stitchctl vnfd"`},
		{[]string{"ns", "show"}, "accepts 1 arg(s), received 0"},
		{[]string{"ns", "show", "a", "b"}, "accepts 1 arg(s), received 2"},
		{[]string{"vnfd", "onboard"}, "requires at least 1 arg(s)"},
		{[]string{"ns", "list", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"ns", "create", "--nsd", "web"}, `required flag(s) "name" not set`},
		{[]string{"ns", "scale", "ns-1", "--profile", "fw", "--aspect", "a"}, "at least one of the flags in the group [out in] is required"},
		{[]string{"ns", "scale", "ns-1", "--profile", "fw", "--aspect", "a", "--out", "--in"}, "were all set"},
		{[]string{"ns", "scale", "ns-1", "--profile", "fw", "--aspect", "a", "--out", "--steps", "0"}, "invalid --steps 0"},
		{[]string{"ns", "terminate", "ns-1", "--graceful-timeout", "-1s"}, "invalid --graceful-timeout"},
		{[]string{"ns", "terminate", "ns-1", "--graceful-timeout", "soon"}, `invalid argument "soon"`},
		{[]string{"-o", "xml", "ns", "list"}, `invalid output format "xml"`},
		{[]string{"--server", "ftp://x", "ns", "list"}, `invalid --server "ftp://x"`},
		{[]string{"subscription", "create"}, `required flag(s) "callback" not set`},
	}
	for _, tt := range tests {
		r := e.run(t, tt.args...)
		if r.code != exitUsage || !strings.Contains(r.err, tt.wantErr) || !strings.Contains(r.err, "--help' for usage") {
			t.Errorf("stitchctl %s: exit %d, stderr %q; want 2 and %q", strings.Join(tt.args, " "), r.code, r.err, tt.wantErr)
		}
	}
	if calls := e.fake.Calls(); len(calls) > 0 {
		t.Errorf("usage errors called the API: %v", calls)
	}
	// A group alone prints its help and succeeds.
	if r := e.run(t, "ns"); r.code != exitOK || !strings.Contains(r.out, "instantiate") {
		t.Errorf("stitchctl ns: exit %d\n%s", r.code, r.out)
	}
}

func TestSubscriptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.ok(t, "subscription", "create", "--callback", "http://oss.example/notify", "--ns", "ns-1", "--ns", "ns-2")
	if got := lines(r.out); len(got) != 2 || got[0] != "ID | CALLBACK | NS INSTANCES | CREATED" ||
		!strings.HasPrefix(got[1], "sub-1 | http://oss.example/notify | ns-1,ns-2 | ") {
		t.Errorf("create:\n%s", r.out)
	}
	e.ok(t, "sub", "create", "--callback", "https://all.example/")
	r = e.ok(t, "subscription", "list")
	if got := lines(r.out); len(got) != 3 || !strings.Contains(got[2], "| (all) |") {
		t.Errorf("list:\n%s", r.out)
	}
	if r := e.ok(t, "subscription", "delete", "sub-1"); r.out != "subscription sub-1 deleted\n" {
		t.Errorf("delete: %q", r.out)
	}
	if r := e.ok(t, "-o", "json", "subscription", "delete", "sub-2"); r.out != "" {
		t.Errorf("delete -o json printed %q; json output must stay parseable", r.out)
	}
}

func TestServerFromEnvironment(t *testing.T) {
	e := newEnv(t)
	t.Setenv("STITCH_SERVER", e.url)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"vnfd", "list"}, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if calls := e.fake.Calls(); len(calls) != 1 || calls[0] != "ListVNFDs" {
		t.Errorf("calls = %v: $STITCH_SERVER was not used", calls)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/testenv"
)

// tinyLab is two nodes on a delayed, rate-limited link; ${LAB} names it.
const tinyLab = `name: ${LAB}
topology:
  defaults: {kind: linux}
  nodes:
    n1:
      labels: {stitch.site: edge}
      exec: ["ip addr add 10.78.0.1/24 dev eth1"]
    n2:
      exec: ["ip addr add 10.78.0.2/24 dev eth1"]
  links:
    - endpoints: ["n1:eth1", "n2:eth1"]
      labels: {stitch.wan.rate: 50mbit, stitch.wan.delay: 5ms}
`

var labSeq atomic.Int32

// labEnv is a stitchctl with its own lab state directory and a lab name
// no other test (or test binary) uses.
type labTestEnv struct {
	name, stateDir, file string
}

func newLabEnv(t *testing.T, src string) *labTestEnv {
	t.Helper()
	dir := t.TempDir()
	e := &labTestEnv{
		name:     fmt.Sprintf("sc%d-%d", os.Getpid(), labSeq.Add(1)),
		stateDir: filepath.Join(dir, "labs"),
		file:     filepath.Join(dir, "lab.clab.yml"),
	}
	if err := os.WriteFile(e.file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *labTestEnv) run(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append([]string{"lab", "--state-dir", e.stateDir}, args...)
	code := run(t.Context(), args, &out, &errOut)
	return result{out: out.String(), err: errOut.String(), code: code}
}

func TestLabDeployInspectDestroy(t *testing.T) {
	t.Parallel()
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "ip", "tc")
	e := newLabEnv(t, tinyLab)
	relay := buildRelay(t)
	t.Cleanup(func() { e.run(t, "destroy", e.name) })

	r := e.run(t, "deploy", e.file, "--env", "LAB="+e.name, "--relay", relay)
	if r.code != 0 {
		t.Fatalf("deploy: exit %d\n%s%s", r.code, r.out, r.err)
	}
	for _, want := range []string{"Lab " + e.name + " deployed.", "clab-" + e.name + "-n1", "eth1 10.78.0.1/24", "n1:eth1--n2:eth1", "5ms", "50mbit", "relay pid", "clab-" + e.name + "--wan0"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("deploy output lacks %q:\n%s", want, r.out)
		}
	}

	again := e.run(t, "deploy", e.file, "--env", "LAB="+e.name)
	if again.code != 1 || !strings.Contains(again.err, "lab "+e.name+" is already deployed") {
		t.Errorf("second deploy: exit %d, stderr %q; want 1 and 'already deployed'", again.code, again.err)
	}

	r = e.run(t, "inspect", e.name, "-o", "json")
	if r.code != 0 {
		t.Fatalf("inspect: exit %d\n%s", r.code, r.err)
	}
	var v labView
	if err := json.Unmarshal([]byte(r.out), &v); err != nil {
		t.Fatalf("inspect -o json: %v\n%s", err, r.out)
	}
	if v.Name != e.name || !v.Complete || len(v.Nodes) != 2 || v.Nodes[0].Site != "edge" ||
		len(v.Nodes[0].Interfaces) != 1 || v.Nodes[0].Interfaces[0].Addrs[0] != "10.78.0.1/24" ||
		len(v.Links) != 1 || v.Links[0].Rate != "50mbit" || v.Links[0].Delay != "5ms" || !v.Links[0].Applied ||
		v.Links[0].Relay == nil || !v.Links[0].Relay.Running {
		t.Fatalf("inspect -o json: %+v", v)
	}
	relayPID := v.Links[0].Relay.PID
	r = e.run(t, "inspect", e.name, "-o", "yaml")
	if r.code != 0 || !strings.Contains(r.out, "netns: clab-"+e.name+"-n2") {
		t.Errorf("inspect -o yaml: exit %d\n%s", r.code, r.out)
	}

	if r = e.run(t, "repair", e.name); r.code != 0 || !strings.Contains(r.out, "every relay runs") {
		t.Errorf("repair of a healthy lab: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if err := syscall.Kill(relayPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); syscall.Kill(relayPID, 0) == nil && !isZombie(relayPID); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("relay %d did not die", relayPID)
		}
	}
	if r = e.run(t, "repair", e.name); r.code != 0 || !strings.Contains(r.out, "relay of n1:eth1--n2:eth1 restarted") {
		t.Errorf("repair after the relay died: exit %d\n%s%s", r.code, r.out, r.err)
	}
	r = e.run(t, "inspect", e.name, "-o", "json")
	if err := json.Unmarshal([]byte(r.out), &v); err != nil || !v.Links[0].Relay.Running || v.Links[0].Relay.PID == relayPID {
		t.Fatalf("inspect after repair: %v\n%s", err, r.out)
	}
	relayPID = v.Links[0].Relay.PID

	r = e.run(t, "destroy", e.name)
	if r.code != 0 || !strings.Contains(r.out, "Lab "+e.name+" destroyed.") {
		t.Fatalf("destroy: exit %d\n%s%s", r.code, r.out, r.err)
	}
	entries, _ := os.ReadDir("/run/netns")
	for _, ent := range entries {
		if strings.Contains(ent.Name(), e.name) {
			t.Errorf("namespace %s left behind", ent.Name())
		}
	}
	if err := syscall.Kill(relayPID, 0); !errors.Is(err, syscall.ESRCH) && !isZombie(relayPID) {
		t.Errorf("relay %d still runs after destroy", relayPID)
	}
	r = e.run(t, "inspect", e.name)
	if r.code != 1 || !strings.Contains(r.err, "lab "+e.name+" is not deployed") {
		t.Errorf("inspect after destroy: exit %d, stderr %q", r.code, r.err)
	}
}

// TestLabDeployInvalid: a bad file is refused before anything is created,
// each problem on a line of its own; a bad --env is a usage error.
func TestLabDeployInvalid(t *testing.T) {
	t.Parallel()
	e := newLabEnv(t, `name: bad
topology:
  nodes:
    n1: {kind: linux}
    n2: {kind: linux}
  links:
    - endpoints: ["n1:eth1", "nope:eth1"]
    - endpoints: ["n1:eth2", "n2:eth1"]
    - endpoints: ["n1:eth2", "n2:eth2"]
`)
	r := e.run(t, "deploy", e.file)
	if r.code != 1 || !strings.Contains(r.err, "invalid topology") ||
		!strings.Contains(r.err, "\n  topology.links[0].endpoints[1]: ") || !strings.Contains(r.err, "\n  topology.links[2].endpoints[0]: ") {
		t.Errorf("deploy of a bad file: exit %d, stderr:\n%s", r.code, r.err)
	}
	if _, err := os.Stat(e.stateDir); !os.IsNotExist(err) {
		t.Errorf("state dir created for a bad file (%v)", err)
	}
	if r := e.run(t, "deploy", e.file, "--env", "NOEQUALS"); r.code != 2 {
		t.Errorf("bad --env: exit %d, want 2\n%s", r.code, r.err)
	}
	if r := e.run(t, "deploy", e.file, "--engine", "docker"); r.code != 2 || !strings.Contains(r.err, "--engine") {
		t.Errorf("bad --engine: exit %d, want 2\n%s", r.code, r.err)
	}
	if r := e.run(t, "deploy"); r.code != 2 {
		t.Errorf("deploy without a file: exit %d, want 2", r.code)
	}
}

// buildRelay builds stitch-wanrelay into a temporary directory.
func buildRelay(t *testing.T) string {
	t.Helper()
	testenv.RequireCommands(t, "go")
	bin := filepath.Join(t.TempDir(), "stitch-wanrelay")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/stitchnfv/stitch/cmd/stitch-wanrelay").CombinedOutput()
	if err != nil {
		t.Fatalf("go build stitch-wanrelay: %v\n%s", err, out)
	}
	return bin
}

// isZombie reports whether pid has exited but not been reaped yet.
func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return err == nil && i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

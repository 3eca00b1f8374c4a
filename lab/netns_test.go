package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/internal/testenv"
)

// labSeq keeps lab names unique within this test binary; the pid keeps
// them unique across binaries running at the same time.
var labSeq atomic.Int32

// liveLab parses src (with ${LAB} set to a unique lab name and ${DIR} to a
// scratch directory) and returns it with a runner whose state lives in a
// temporary directory. Cleanup destroys the lab even if the test fails.
func liveLab(t *testing.T, src string) (*Runner, *Topology, string) {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "tc", "ip")
	name := fmt.Sprintf("lt%d-%d", os.Getpid(), labSeq.Add(1))
	scratch := t.TempDir()
	topo, err := Parse([]byte(src), map[string]string{"LAB": name, "DIR": scratch})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	r := NewRunner(filepath.Join(t.TempDir(), "state"), nil)
	t.Cleanup(func() {
		if err := r.Destroy(context.Background(), name); err != nil && !errors.Is(err, ErrNotDeployed) {
			t.Errorf("cleanup: %v", err)
		}
		assertNothingLeft(t, r, topo)
	})
	return r, topo, scratch
}

// assertNothingLeft checks that no namespace of the lab and no state remain.
func assertNothingLeft(t *testing.T, r *Runner, topo *Topology) {
	t.Helper()
	entries, _ := os.ReadDir(namedns.Dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), NSPrefix(topo)+"-") {
			t.Errorf("namespace %s left behind", e.Name())
		}
	}
	if _, err := os.Stat(r.labDir(topo.Name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state dir %s left behind (%v)", r.labDir(topo.Name), err)
	}
}

// inNode runs fn inside the node's namespace (sockets it creates stay
// there).
func inNode(t *testing.T, topo *Topology, node string, fn func() error) {
	t.Helper()
	if err := namedns.DoNamed(NetNSName(topo, node), fn); err != nil {
		t.Fatalf("in %s: %v", node, err)
	}
}

// dialEcho starts a one-connection TCP echo server on addr inside node srv
// and dials it from node cli; the connection and listener close with t.
func dialEcho(t *testing.T, topo *Topology, srv, cli, addr string, timeout time.Duration) net.Conn {
	t.Helper()
	var ln net.Listener
	inNode(t, topo, srv, func() (err error) { ln, err = net.Listen("tcp4", addr+":0"); return })
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(c, c)
	}()
	var conn net.Conn
	inNode(t, topo, cli, func() (err error) { conn, err = net.DialTimeout("tcp4", ln.Addr().String(), timeout); return })
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(timeout))
	return conn
}

// echoAcross listens on addr inside node srv and checks that a TCP client in
// node cli gets its bytes echoed back.
func echoAcross(t *testing.T, topo *Topology, srv, cli, addr string) {
	t.Helper()
	conn := dialEcho(t, topo, srv, cli, addr, 2*time.Second)
	msg := "hello " + topo.Name
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != msg {
		t.Fatalf("echo across %s->%s: %q, %v", cli, srv, buf, err)
	}
}

func tcQdisc(t *testing.T, ns, dev string) string {
	t.Helper()
	out, err := exec.Command("tc", "-n", ns, "qdisc", "show", "dev", dev).CombinedOutput()
	if err != nil {
		t.Fatalf("tc qdisc show: %v: %s", err, out)
	}
	return string(out)
}

const twoNodeLab = `
name: ${LAB}
prefix: stt
topology:
  defaults:
    kind: linux
    env: {GREETING: defaults}
  nodes:
    n1:
      exec:
        - ip addr add 10.77.0.1/24 dev eth1
        - sleep 301 &
    n2:
      env: {GREETING: hello-n2}
      exec:
        - ip addr add 10.77.0.2/24 dev eth1
        - echo "$GREETING $CLAB_NODE_NAME" > ${DIR}/n2.env
      cmd: exec sleep 300
  links:
    - endpoints: ["n1:eth1", "n2:eth1"]
      labels: {stitch.wan.rate: 50mbit}
`

func TestDeployTwoNodes(t *testing.T) {
	t.Parallel()
	r, topo, scratch := liveLab(t, twoNodeLab)
	ctx := context.Background()
	lab, err := r.Deploy(ctx, topo, DeployOptions{})
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	if !lab.Complete || len(lab.Nodes) != 2 || len(lab.Links) != 1 {
		t.Fatalf("lab %+v", lab)
	}
	n1, _ := lab.Node("n1")
	if n1.NetNS != "stt-"+topo.Name+"-n1" {
		t.Errorf("n1 netns %q", n1.NetNS)
	}
	if len(n1.Interfaces) != 1 || n1.Interfaces[0].Name != "eth1" || !n1.Interfaces[0].Up ||
		len(n1.Interfaces[0].Addrs) != 1 || n1.Interfaces[0].Addrs[0].String() != "10.77.0.1/24" {
		t.Errorf("n1 interfaces %+v", n1.Interfaces)
	}

	echoAcross(t, topo, "n2", "n1", "10.77.0.2")

	// exec ran with the node's env, merged over the defaults.
	if b, err := os.ReadFile(filepath.Join(scratch, "n2.env")); err != nil || string(b) != "hello-n2 n2\n" {
		t.Errorf("n2 exec env: %q, %v", b, err)
	}
	// Rate shaping on both veth ends.
	for _, node := range []string{"n1", "n2"} {
		q := tcQdisc(t, NetNSName(topo, node), "eth1")
		if !strings.Contains(q, "qdisc tbf") || !strings.Contains(q, "rate 50Mbit") {
			t.Errorf("%s eth1 qdisc: %s", node, q)
		}
	}
	// cmd runs in n2's namespace.
	n2, _ := lab.Node("n2")
	if n2.PID == 0 || n2.Log == "" {
		t.Fatalf("n2 cmd not recorded: %+v", n2)
	}
	procNS, ok1 := namedns.IDOf(fmt.Sprintf("/proc/%d/ns/net", n2.PID))
	nodeNS, ok2 := namedns.IDOf(namedns.Path(n2.NetNS))
	if !ok1 || !ok2 || procNS != nodeNS {
		t.Errorf("cmd pid %d in netns %v, want %v", n2.PID, procNS, nodeNS)
	}
	bg := netnsPIDs(n1.NetNS)
	if len(bg) != 1 {
		t.Errorf("n1 should hold the backgrounded sleep, has pids %v", bg)
	}

	if _, err := r.Deploy(ctx, topo, DeployOptions{}); !errors.Is(err, ErrAlreadyDeployed) {
		t.Errorf("second Deploy: %v, want ErrAlreadyDeployed", err)
	}
	if again, err := r.Inspect(ctx, topo.Name); err != nil || len(again.Nodes) != 2 {
		t.Errorf("Inspect after refused redeploy: %+v, %v", again, err)
	}

	if err := r.Destroy(ctx, topo.Name); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	assertNothingLeft(t, r, topo)
	for _, pid := range append(bg, n2.PID) {
		if len(livePIDs([]int{pid})) != 0 {
			t.Errorf("process %d survived Destroy", pid)
		}
	}
	if _, err := r.Inspect(ctx, topo.Name); !errors.Is(err, ErrNotDeployed) {
		t.Errorf("Inspect after Destroy: %v, want ErrNotDeployed", err)
	}
	if err := r.Destroy(ctx, topo.Name); !errors.Is(err, ErrNotDeployed) {
		t.Errorf("second Destroy: %v, want ErrNotDeployed", err)
	}
}

func TestDeployBridge(t *testing.T) {
	t.Parallel()
	r, topo, _ := liveLab(t, `
name: ${LAB}
topology:
  nodes:
    sw: {kind: bridge}
    h1: {kind: linux, exec: ["ip addr add 10.78.0.1/24 dev eth1"]}
    h2: {kind: linux, exec: ["ip addr add 10.78.0.2/24 dev eth1"]}
  links:
    - endpoints: ["h1:eth1", "sw:p1"]
    - type: veth
      mtu: 1400
      endpoints: [{node: h2, interface: eth1, mac: "02:00:00:00:78:02"}, {node: sw, interface: p2}]
`)
	lab, err := r.Deploy(context.Background(), topo, DeployOptions{})
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	h2, _ := lab.Node("h2")
	if len(h2.Interfaces) != 1 || h2.Interfaces[0].MAC != "02:00:00:00:78:02" || h2.Interfaces[0].MTU != 1400 {
		t.Errorf("h2 interfaces %+v", h2.Interfaces)
	}
	sw, _ := lab.Node("sw")
	var names []string
	for _, i := range sw.Interfaces {
		names = append(names, i.Name)
	}
	if strings.Join(names, ",") != "br0,p1,p2" {
		t.Errorf("bridge node interfaces %v", names)
	}
	echoAcross(t, topo, "h2", "h1", "10.78.0.2")
}

const impairedLab = `
name: ${LAB}
topology:
  defaults: {kind: linux}
  nodes: {a: {}, b: {}}
  links:
    - endpoints: ["a:eth1", "b:eth1"]
      labels: {stitch.wan.delay: 20ms, stitch.wan.loss: 0.5%, stitch.wan.rate: 10mbit}
`

func TestDeployImpairments(t *testing.T) {
	t.Parallel()
	r, topo, _ := liveLab(t, impairedLab)
	ctx := context.Background()
	haveNetem, err := probeNetem(ctx, NSPrefix(topo))
	if err != nil {
		t.Fatal(err)
	}
	// NoRelay: this test is about tc, whether or not a relay is on PATH.
	if haveNetem {
		lab, err := r.Deploy(ctx, topo, DeployOptions{NoRelay: true})
		if err != nil || !lab.Links[0].Applied {
			t.Fatalf("Deploy with netem: %+v, %v", lab, err)
		}
		if q := tcQdisc(t, NetNSName(topo, "a"), "eth1"); !strings.Contains(q, "netem") {
			t.Errorf("qdisc %s", q)
		}
		return
	}
	// No netem: refused, and nothing created (not even the probe namespace).
	_, err = r.Deploy(ctx, topo, DeployOptions{NoRelay: true})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "a:eth1--b:eth1") {
		t.Fatalf("Deploy without netem: %v, want ErrUnsupported naming the link", err)
	}
	assertNothingLeft(t, r, topo)

	lab, err := r.Deploy(ctx, topo, DeployOptions{AllowUnappliedImpairments: true, NoRelay: true})
	if err != nil {
		t.Fatalf("Deploy allowing unapplied impairments: %v", err)
	}
	l := lab.Links[0]
	if l.Applied || l.WAN.Delay != 20*time.Millisecond || l.WAN.LossPercent != 0.5 || len(lab.Warnings) == 0 {
		t.Errorf("link %+v warnings %v", l, lab.Warnings)
	}
	if q := tcQdisc(t, NetNSName(topo, "b"), "eth1"); !strings.Contains(q, "rate 10Mbit") {
		t.Errorf("rate not applied without netem: %s", q)
	}
	// The impairment applier itself reports what it could not do.
	err = applyImpairment(ctx, NetNSName(topo, "a"), "eth1", Impairment{Delay: time.Millisecond}, false)
	if !errors.Is(err, ErrUnsupported) {
		t.Errorf("applyImpairment: %v, want ErrUnsupported", err)
	}
}

func TestDeployRefusedCreatesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("unsupported kind", func(t *testing.T) {
		r, topo, _ := liveLab(t, "name: ${LAB}\ntopology:\n  nodes:\n    a: {kind: linux}\n    srl: {kind: nokia_srlinux}\n  links:\n    - endpoints: [\"a:eth1\", \"srl:e1-1\"]\n")
		if _, err := r.Deploy(ctx, topo, DeployOptions{}); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "topology.nodes.srl.kind") {
			t.Fatalf("Deploy: %v", err)
		}
		assertNothingLeft(t, r, topo)
	})
	t.Run("containerlab handoff", func(t *testing.T) {
		r, topo, _ := liveLab(t, "name: ${LAB}\ntopology:\n  nodes:\n    a: {kind: linux}\n")
		if _, err := r.Deploy(ctx, topo, DeployOptions{UseContainerlab: true}); !errors.Is(err, ErrUnsupported) {
			t.Fatalf("Deploy: %v", err)
		}
		assertNothingLeft(t, r, topo)
	})
	t.Run("failing exec rolls back", func(t *testing.T) {
		r, topo, _ := liveLab(t, "name: ${LAB}\ntopology:\n  defaults: {kind: linux}\n  nodes:\n    a: {cmd: sleep 300}\n    b: {exec: [\"echo boom >&2; exit 3\"]}\n  links:\n    - endpoints: [\"a:eth1\", \"b:eth1\"]\n")
		_, err := r.Deploy(ctx, topo, DeployOptions{})
		if err == nil || !strings.Contains(err.Error(), "rolled back") || !strings.Contains(err.Error(), "boom") ||
			!strings.Contains(err.Error(), "node b exec[0]") {
			t.Fatalf("Deploy: %v", err)
		}
		assertNothingLeft(t, r, topo)
	})
}

// A deploy that died half way (the process crashed) leaves state behind:
// Destroy clears it, processes included.
func TestDestroyAfterCrash(t *testing.T) {
	t.Parallel()
	r, topo, _ := liveLab(t, "name: ${LAB}\ntopology:\n  nodes:\n    a: {kind: linux}\n    b: {kind: linux}\n")
	if err := namedns.PrepareDir(); err != nil {
		t.Fatal(err)
	}
	dir := r.labDir(topo.Name)
	if err := reserveLabDir(dir); err != nil {
		t.Fatal(err)
	}
	ns := NetNSName(topo, "a")
	if err := createNetNS(ns); err != nil {
		t.Fatal(err)
	}
	st := &labState{Name: topo.Name, Namespaces: []string{ns}, Nodes: []nodeState{{Name: "a", Kind: KindLinux, NetNS: ns}}}
	if err := writeState(dir, st); err != nil {
		t.Fatal(err)
	}
	pid, err := startInNetNS(ns, "exec sleep 300", os.Environ(), filepath.Join(dir, "a.log"))
	if err != nil {
		t.Fatal(err)
	}
	lab, err := r.Inspect(context.Background(), topo.Name)
	if err != nil || lab.Complete {
		t.Fatalf("Inspect half-deployed lab: %+v, %v", lab, err)
	}
	if _, err := r.Deploy(context.Background(), topo, DeployOptions{}); !errors.Is(err, ErrAlreadyDeployed) {
		t.Fatalf("Deploy over half-deployed lab: %v", err)
	}
	if err := r.Destroy(context.Background(), topo.Name); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil && len(livePIDs([]int{pid})) > 0 {
		t.Errorf("process %d survived", pid)
	}
	assertNothingLeft(t, r, topo)
}

func TestNSPrefix(t *testing.T) {
	for _, tt := range []struct{ prefix, want string }{
		{"clab", "clab-x"}, {"", "x"}, {"__lab-name", "x"}, {"p", "p-x"},
	} {
		if got := NSPrefix(&Topology{Name: "x", Prefix: tt.prefix}); got != tt.want {
			t.Errorf("NSPrefix(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
}

// The committed lab files deploy (under a unique name) and carry traffic:
// client to core is routed through edge.
func TestDeployLabFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		file, srv, cli, addr string
	}{
		{"two-site.clab.yml", "core", "client", "10.99.0.2"},
		{"three-domain.clab.yml", "d3", "d2", "10.0.23.2"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			src, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			// Give the lab a unique name so parallel runs do not collide.
			src = []byte(strings.Replace(string(src), "\nname: ", "\nname: ${LAB}\n# was: ", 1))
			r, topo, _ := liveLab(t, string(src))
			if !strings.HasPrefix(topo.Name, "lt") {
				t.Fatalf("lab name %q not made unique", topo.Name)
			}
			lab, err := r.Deploy(ctx, topo, DeployOptions{AllowUnappliedImpairments: true})
			if err != nil {
				t.Fatalf("Deploy: %v", err)
			}
			for _, n := range lab.Nodes {
				if n.Site == "" {
					t.Errorf("node %s has no site", n.Name)
				}
			}
			echoAcross(t, topo, tc.srv, tc.cli, tc.addr)
		})
	}
}

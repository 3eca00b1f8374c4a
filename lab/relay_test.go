package lab

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/testenv"
)

// buildRelay builds cmd/stitch-wanrelay into a temporary directory.
func buildRelay(t *testing.T) string {
	t.Helper()
	testenv.RequireCommands(t, "go")
	bin := filepath.Join(t.TempDir(), RelayBinary)
	out, err := exec.Command("go", "build", "-o", bin, "github.com/stitchnfv/stitch/cmd/stitch-wanrelay").CombinedOutput()
	if err != nil {
		t.Fatalf("go build stitch-wanrelay: %v\n%s", err, out)
	}
	return bin
}

// tcpRTT dials addr from the client node and returns the smallest round
// trip of a few one-byte echoes (the minimum filters scheduling noise;
// delay can only add to it).
func tcpRTT(t *testing.T, topo *Topology, srv, cli, addr string) time.Duration {
	t.Helper()
	conn := dialEcho(t, topo, srv, cli, addr, 5*time.Second)
	var rtts []time.Duration
	buf := make([]byte, 1)
	for range 5 {
		start := time.Now()
		if _, err := conn.Write([]byte{'x'}); err != nil {
			t.Fatalf("write: %v", err)
		}
		if _, err := io.ReadFull(conn, buf); err != nil {
			t.Fatalf("read: %v", err)
		}
		rtts = append(rtts, time.Since(start))
	}
	return slices.Min(rtts)
}

// TestTwoSiteWANRelay deploys lab/two-site.clab.yml (20 ms edge-core WAN)
// with the relay, and checks that a TCP round trip from the client to core
// takes about 40 ms, then that Destroy leaves no namespace or relay.
func TestTwoSiteWANRelay(t *testing.T) {
	t.Parallel()
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "tc", "ip")
	relay := buildRelay(t)
	topo, err := ParseFile("two-site.clab.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	// A unique name, so parallel runs of this test never collide.
	topo.Name = fmt.Sprintf("ts%d-%d", os.Getpid(), labSeq.Add(1))
	r := NewRunner(filepath.Join(t.TempDir(), "state"), nil)
	t.Cleanup(func() { _ = r.Destroy(context.Background(), topo.Name) })
	ctx := t.Context()

	lab, err := r.Deploy(ctx, topo, DeployOptions{RelayCommand: relay})
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	if len(lab.Warnings) > 0 {
		t.Errorf("warnings: %q", lab.Warnings)
	}
	i := slices.IndexFunc(lab.Links, func(l LinkInfo) bool { return l.A == "edge:eth2" })
	if i < 0 {
		t.Fatalf("no edge:eth2 link in %+v", lab.Links)
	}
	wan := lab.Links[i]
	if wan.Relay == nil || !wan.Relay.Running || !wan.Applied || wan.WAN.Delay != 20*time.Millisecond {
		t.Fatalf("WAN link %+v (relay %+v)", wan, wan.Relay)
	}
	for node, ifc := range map[string]string{"edge": "eth2", "core": "eth1"} {
		n, _ := lab.Node(node)
		if !slices.ContainsFunc(n.Interfaces, func(i Interface) bool { return i.Name == ifc && i.Up }) {
			t.Errorf("%s interfaces %+v, want %s up", node, n.Interfaces, ifc)
		}
	}

	rtt := tcpRTT(t, topo, "core", "client", "10.99.0.2")
	t.Logf("client -> core TCP round trip across the 20 ms WAN: %v", rtt)
	if rtt < 35*time.Millisecond || rtt > 150*time.Millisecond {
		t.Errorf("round trip %v, want about 40ms (35ms..150ms)", rtt)
	}
	// The unimpaired LAN side stays fast.
	if lan := tcpRTT(t, topo, "edge", "client", "192.168.100.1"); lan > 10*time.Millisecond {
		t.Errorf("client -> edge round trip %v, want well under the WAN's", lan)
	}

	// A relay that dies cuts the link; Inspect says so and Repair restarts
	// it with the same impairment.
	if got, err := r.Repair(ctx, topo.Name); err != nil || len(got) != 0 {
		t.Fatalf("Repair of a healthy lab: %v, %v; want nothing restarted", got, err)
	}
	if err := syscall.Kill(wan.Relay.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, wan.Relay.PID)
	if l, _ := r.Inspect(ctx, topo.Name); l.Links[i].Applied || l.Links[i].Relay.Running {
		t.Fatalf("after the relay died: %+v", l.Links[i].Relay)
	}
	if got, err := r.Repair(ctx, topo.Name); err != nil || len(got) != 1 || got[0] != "edge:eth2--core:eth1" {
		t.Fatalf("Repair: %v, %v", got, err)
	}
	lab, _ = r.Inspect(ctx, topo.Name)
	if wan = lab.Links[i]; !wan.Applied || !wan.Relay.Running {
		t.Fatalf("after Repair: %+v", wan.Relay)
	}
	if rtt := tcpRTT(t, topo, "core", "client", "10.99.0.2"); rtt < 35*time.Millisecond || rtt > 150*time.Millisecond {
		t.Errorf("round trip after Repair %v, want about 40ms again", rtt)
	}

	if err := r.Destroy(ctx, topo.Name); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	assertNothingLeft(t, r, topo)
	if len(livePIDs([]int{wan.Relay.PID})) != 0 {
		t.Errorf("relay %d still runs after Destroy", wan.Relay.PID)
	}
}

const relayedLab = `
name: ${LAB}
topology:
  nodes:
    a: {kind: linux}
    b: {kind: linux}
  links:
    - endpoints: ["a:eth1", "b:eth1"]
      labels: {stitch.wan.delay: 5ms, stitch.wan.loss: "0.1%"}
`

// TestDestroyFindsUnrecordedRelay simulates a deploy that crashed after
// starting the relay but before recording it: Destroy must still end the
// relay (it runs inside the link's WAN namespace) and remove everything.
func TestDestroyFindsUnrecordedRelay(t *testing.T) {
	t.Parallel()
	r, topo, _ := liveLab(t, relayedLab)
	relay := buildRelay(t)
	ctx := t.Context()
	lab, err := r.Deploy(ctx, topo, DeployOptions{RelayCommand: relay})
	if err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	ri := lab.Links[0].Relay
	if ri == nil || !ri.Running || ri.NetNS != NSPrefix(topo)+"--wan0" {
		t.Fatalf("relay %+v", ri)
	}
	dir := r.labDir(topo.Name)
	st, err := readState(dir)
	if err != nil {
		t.Fatal(err)
	}
	st.Links[0].RelayPID, st.Links[0].RelayStart, st.Complete = 0, 0, false
	if err := writeState(dir, st); err != nil {
		t.Fatal(err)
	}
	// A fresh runner: nothing but the state on disk is shared.
	if err := NewRunner(r.stateDir, nil).Destroy(ctx, topo.Name); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if len(livePIDs([]int{ri.PID})) != 0 {
		t.Errorf("relay %d still runs after Destroy", ri.PID)
	}
}

// TestDeployBadRelay: a relay that cannot start fails the deploy, which is
// rolled back.
func TestDeployBadRelay(t *testing.T) {
	t.Parallel()
	r, topo, _ := liveLab(t, relayedLab)
	_, err := r.Deploy(t.Context(), topo, DeployOptions{RelayCommand: "/bin/false"})
	if err == nil {
		t.Fatal("Deploy with a relay that exits at once succeeded")
	}
	t.Logf("%v", err)
}

// waitGone waits (at most 5 s) until pid no longer runs.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); len(livePIDs([]int{pid})) != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d still runs", pid)
		}
	}
}

package ovnhost

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/internal/testenv"
)

func require(t *testing.T) {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "ovsdb-server", "ovsdb-tool", "ovs-vswitchd", "ovs-vsctl", "ovs-appctl",
		"ovn-controller", "ovn-northd", "ovn-nbctl", "ovn-sbctl")
	for _, p := range []string{VSwitchSchema, NBSchema, SBSchema, "/dev/net/tun"} {
		if _, err := os.Stat(p); err != nil {
			testenv.Unavailable(t, "this test needs "+p)
		}
	}
}

func shortDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "ovnh")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// TestCentralAndChassis starts a central and a chassis, restarts them
// (adoption keeps the same processes, a killed daemon is restarted), and
// stops them leaving no tagged process and no device in the namespace.
func TestCentralAndChassis(t *testing.T) {
	require(t)
	ctx := context.Background()
	tag := fmt.Sprintf("ovnhost-test-%d", os.Getpid())
	t.Cleanup(func() { KillTagged(tag) })

	central, err := StartCentral(ctx, shortDir(t), tag)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { central.Stop(ctx) })
	if len(central.Pids()) != 3 {
		t.Fatalf("central pids = %v", central.Pids())
	}
	if _, err := central.Ctl(ctx, "ovn-nbctl", "--db="+central.NB, "--wait=sb", "ls-add", "sw"); err != nil {
		t.Fatal(err)
	}
	again, err := StartCentral(ctx, central.Dir, tag)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(again.Pids()) != fmt.Sprint(central.Pids()) {
		t.Fatalf("central restarted: %v, was %v", again.Pids(), central.Pids())
	}

	ns := fmt.Sprintf("ovnh%d", os.Getpid())
	h, err := namedns.Create(ns)
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	t.Cleanup(func() { namedns.Delete(ns) })
	cfg := ChassisConfig{Name: "ch1", NetNS: ns, Dir: shortDir(t), SBRemote: central.SB, EncapIP: "127.0.0.1", Tag: tag}
	t0 := time.Now()
	ch, err := EnsureChassis(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("chassis up in %v", time.Since(t0))
	pids := ch.Pids()
	if len(pids) != 3 {
		t.Fatalf("chassis pids = %v", pids)
	}
	out, err := exec.Command("ip", "-n", ns, "-br", "link").Output()
	if err != nil || !strings.Contains(string(out), "br-int") {
		t.Fatalf("br-int not in the namespace: %v %s", err, out)
	}
	// Adoption: the same processes.
	ch2, err := EnsureChassis(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ch2.Pids()) != fmt.Sprint(pids) {
		t.Fatalf("adopt restarted: %v, was %v", ch2.Pids(), pids)
	}
	// A dead ovn-controller is restarted.
	if err := chassisDaemons(ch.cfg)[2].stop(ctx, ch.cfg.Dir, tag); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureChassis(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if p := ch.Pids(); len(p) != 3 || p["ovn-controller"] == pids["ovn-controller"] {
		t.Fatalf("after restart pids = %v, was %v", p, pids)
	}

	if err := ch.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if p := ch.Pids(); len(p) != 0 {
		t.Fatalf("after Stop pids = %v", p)
	}
	out, _ = exec.Command("ip", "-n", ns, "-br", "link").Output()
	if strings.Contains(string(out), "br-int") || strings.Contains(string(out), "ovs-netdev") {
		t.Fatalf("devices left in the namespace:\n%s", out)
	}
	sb, err := central.Ctl(ctx, "ovn-sbctl", "--db="+central.SB, "--bare", "--columns=name", "list", "Chassis")
	if err != nil || strings.TrimSpace(sb) != "" {
		t.Fatalf("chassis left in SB: %q %v", sb, err)
	}
	if err := central.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if procs := TaggedProcs(tag); len(procs) != 0 {
		t.Fatalf("processes left: %v", procs)
	}
}

package ovntest_test

import (
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/sfc/ovntest"
)

func TestChassisCarriesTCPAndCleansUp(t *testing.T) {
	t.Parallel()
	env := ovntest.Start(t)
	ovntest.RequireChassis(t)
	env.NBCtl(t, "ls-add", "sw0",
		"--", "lsp-add", "sw0", "a", "--", "lsp-set-addresses", "a", "0a:00:00:00:00:01 10.9.0.1",
		"--", "lsp-add", "sw0", "b", "--", "lsp-set-addresses", "b", "0a:00:00:00:00:02 10.9.0.2")

	var names []string
	t.Run("up", func(t *testing.T) {
		ch := env.AddChassis(t, "hv1", ovntest.ChassisOptions{})
		if got := env.SBCtl(t, "--bare", "--columns=ip", "find", "Encap", "chassis_name=hv1"); strings.TrimSpace(got) != "127.0.0.1" {
			t.Errorf("encap ip of hv1 = %q", got)
		}
		a := ch.AttachPort(t, "a", "0a:00:00:00:00:01", "10.9.0.1/24")
		b := ch.AttachPort(t, "b", "0a:00:00:00:00:02", "10.9.0.2/24")
		names = []string{ch.NetNS, a, b}
		ovntest.ServeEcho(t, b, "10.9.0.2:7000")
		if err := ovntest.Echo(a, "10.9.0.2:7000", 2*time.Second); err != nil {
			t.Fatal(err)
		}
		// Nothing of the chassis may show in the root namespace: OVS's
		// tap devices stay inside the chassis's own.
		if out := run(t, "ip", "-br", "link"); strings.Contains(out, "br-int") || strings.Contains(out, "ovs-netdev") {
			t.Errorf("root namespace has OVS devices:\n%s", out)
		}
	})

	// The subtest's cleanups have run: the namespaces are gone and
	// ovn-controller took the chassis out of SB on its way out.
	netns := run(t, "ip", "netns", "list")
	for _, n := range names {
		if strings.Contains(netns, n) {
			t.Errorf("namespace %s left behind:\n%s", n, netns)
		}
	}
	if out := env.SBCtl(t, "--bare", "--columns=name", "list", "Chassis"); strings.TrimSpace(out) != "" {
		t.Errorf("SB still lists chassis %q", out)
	}
}

func run(t *testing.T, prog string, args ...string) string {
	t.Helper()
	out, err := exec.Command(prog, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", prog, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestTwoChassisOverGeneve(t *testing.T) {
	t.Parallel()
	env := ovntest.Start(t)
	ovntest.RequireChassis(t)
	env.NBCtl(t, "ls-add", "sw0",
		"--", "lsp-add", "sw0", "a", "--", "lsp-set-addresses", "a", "0a:00:00:00:00:01 10.9.0.1",
		"--", "lsp-add", "sw0", "b", "--", "lsp-set-addresses", "b", "0a:00:00:00:00:02 10.9.0.2")
	hv1 := env.AddChassis(t, "hv1", ovntest.ChassisOptions{Underlay: netip.MustParsePrefix("192.168.100.1/24")})
	hv2 := env.AddChassis(t, "hv2", ovntest.ChassisOptions{Underlay: netip.MustParsePrefix("192.168.100.2/24")})
	ovntest.LinkUnderlay(t, hv1, hv2)
	a := hv1.AttachPort(t, "a", "0a:00:00:00:00:01", "10.9.0.1/24")
	b := hv2.AttachPort(t, "b", "0a:00:00:00:00:02", "10.9.0.2/24")
	env.NBCtl(t, "--wait=hv", "--timeout=10", "sync")

	// Each chassis has a Geneve port towards the other's underlay address.
	if out := hv1.VSCtl(t, "--bare", "--columns=options", "find", "Interface", "type=geneve"); !strings.Contains(out, "remote_ip=192.168.100.2") {
		t.Fatalf("hv1 has no tunnel to hv2: %q", out)
	}
	ovntest.ServeEcho(t, b, "10.9.0.2:7000")
	// The first packets wait for OVS to resolve the peer's underlay MAC, so
	// allow a SYN retransmission.
	start := time.Now()
	if err := ovntest.Echo(a, "10.9.0.2:7000", 3*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("first echo across chassis took %v", time.Since(start))
}

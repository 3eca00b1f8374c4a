package ovntest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/internal/ovnhost"
)

// workloadMTU leaves room for Geneve's encapsulation on a 1500-byte
// underlay; with the full 1500 large transfers across chassis stall.
const workloadMTU = "1400"

// AttachPort plugs a workload into the chassis as logical switch port
// lspName, which must exist in NB: it creates a network namespace whose
// eth0 has mac and cidrIP (for example "10.0.1.10/24"), joins it by a veth
// to br-int with external_ids:iface-id=lspName, and returns the namespace's
// name once ovn-controller has bound the port and installed its flows. The
// namespace and port go away when t ends.
func (c *Chassis) AttachPort(t testing.TB, lspName, mac, cidrIP string) string {
	t.Helper()
	ns := uniqueName("ovnt-wl")
	addNetNS(t, ns)
	// Interface names are capped at 15 bytes; the chassis end needs only to
	// be unique within the chassis namespace.
	outer := fmt.Sprintf("wl%d", c.ports.Add(1))
	// Creating the pair inside the workload namespace with its peer sent
	// straight to the chassis keeps both ends out of the root namespace,
	// and deleting the workload namespace deletes the pair.
	ip(t, "-n", ns, "link", "add", "eth0", "mtu", workloadMTU, "address", mac,
		"type", "veth", "peer", "name", outer, "mtu", workloadMTU, "netns", c.NetNS)
	ip(t, "-n", ns, "addr", "add", cidrIP, "dev", "eth0")
	ip(t, "-n", ns, "link", "set", "eth0", "up")
	ip(t, "-n", c.NetNS, "link", "set", outer, "up")
	// The userspace datapath does not fill in checksums the veth leaves to
	// offload, so TCP segments would arrive with bad checksums.
	ip(t, "netns", "exec", ns, "ethtool", "-K", "eth0", "tx", "off")

	c.VSCtl(t, "add-port", "br-int", outer, "--",
		"set", "Interface", outer, "external_ids:iface-id="+lspName)
	t.Cleanup(func() {
		// Before the namespace (registered earlier) is deleted, so that
		// ovs-vswitchd does not keep polling a vanished device.
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		if _, err := c.ctl(ctx, "ovs-vsctl", "--db=unix:"+c.dbSocket(), "--timeout=3", "--if-exists", "del-port", "br-int", outer); err != nil {
			t.Errorf("ovntest: chassis %s: %v", c.Name, err)
		}
	})

	// ovn-controller marks the interface ovn-installed once the port is
	// bound to this chassis in SB and its flows are in br-int: from then on
	// packets of the port follow the logical flows.
	err := ovnhost.Poll(t.Context(), convergeTimeout, "port "+lspName+" installed on "+c.Name, func() (bool, error) {
		out, err := c.ctl(t.Context(), "ovs-vsctl", "--db=unix:"+c.dbSocket(),
			"--if-exists", "get", "Interface", outer, "external_ids:ovn-installed")
		return strings.TrimSpace(out) == `"true"`, err
	})
	if err != nil {
		t.Fatalf("ovntest: %v (is %s in NB? logs in %s)", err, lspName, c.Dir)
	}
	if got := c.boundChassis(t, lspName); got != c.Name {
		t.Fatalf("ovntest: port %s is bound to chassis %q, want %q", lspName, got, c.Name)
	}
	return ns
}

// boundChassis is the name of the chassis SB's Port_Binding of lsp names.
func (c *Chassis) boundChassis(t testing.TB, lsp string) string {
	t.Helper()
	uuid := strings.TrimSpace(c.env.SBCtl(t, "--bare", "--columns=chassis", "find", "Port_Binding", "logical_port="+lsp))
	if uuid == "" {
		return ""
	}
	return strings.TrimSpace(c.env.SBCtl(t, "--bare", "--columns=name", "list", "Chassis", uuid))
}

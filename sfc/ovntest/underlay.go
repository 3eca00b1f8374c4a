package ovntest

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// addUnderlay gives the chassis its tunnel endpoint. The userspace datapath
// sends tunnelled packets itself rather than through the kernel: it routes
// them by the namespace's routes, and the route's device must be an OVS
// bridge of its own, so the address sits on a netdev bridge br-phy whose
// port is the underlay link.
func (c *Chassis) addUnderlay(t testing.TB, addr netip.Prefix) {
	t.Helper()
	c.VSCtl(t, "--may-exist", "add-br", "br-phy", "--", "set", "Bridge", "br-phy", "datapath_type=netdev")
	ip(t, "-n", c.NetNS, "addr", "add", addr.String(), "dev", "br-phy")
	ip(t, "-n", c.NetNS, "link", "set", "br-phy", "up")
}

// LinkUnderlay joins the br-phy bridges of chassis a and b (both started
// with ChassisOptions.Underlay in one subnet) with a veth pair, the WAN link
// their Geneve tunnels cross. The link goes when t ends.
func LinkUnderlay(t testing.TB, a, b *Chassis) {
	t.Helper()
	name := fmt.Sprintf("ul%d", nsSeq.Add(1))
	// Each end lives in its chassis's namespace from the start, and each
	// namespace's deletion takes the pair with it.
	ip(t, "-n", a.NetNS, "link", "add", name, "type", "veth", "peer", "name", name, "netns", b.NetNS)
	for _, c := range []*Chassis{a, b} {
		ip(t, "-n", c.NetNS, "link", "set", name, "up")
		c.VSCtl(t, "add-port", "br-phy", name)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
			defer cancel()
			if _, err := c.ctl(ctx, "ovs-vsctl", "--db=unix:"+c.dbSocket(), "--timeout=3", "--if-exists", "del-port", "br-phy", name); err != nil {
				t.Errorf("ovntest: chassis %s: %v", c.Name, err)
			}
		})
	}
	// OVS resolves a tunnel peer's MAC itself, dropping what it sends until
	// the ARP reply is in; telling each side the other's MAC up front
	// spares the first connection a SYN retransmission (1 s).
	a.setTunnelNeighbor(t, b)
	b.setTunnelNeighbor(t, a)
}

func (c *Chassis) setTunnelNeighbor(t testing.TB, peer *Chassis) {
	t.Helper()
	if !c.underlay.IsValid() || !peer.underlay.IsValid() {
		t.Fatalf("ovntest: LinkUnderlay %s–%s: both chassis need ChassisOptions.Underlay", c.Name, peer.Name)
	}
	out, err := exec.Command("ip", "-n", peer.NetNS, "-br", "link", "show", "br-phy").Output()
	fields := strings.Fields(string(out))
	if err != nil || len(fields) < 3 {
		t.Fatalf("ovntest: chassis %s: br-phy MAC: %v: %q", peer.Name, err, out)
	}
	if _, err := c.ctl(t.Context(), "ovs-appctl", "-t", filepath.Join(c.Dir, "ovs-vswitchd.ctl"),
		"tnl/arp/set", "br-phy", peer.underlay.Addr().String(), fields[2]); err != nil {
		t.Fatalf("ovntest: chassis %s: %v", c.Name, err)
	}
}

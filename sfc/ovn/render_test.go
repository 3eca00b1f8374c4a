package ovn_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/sfc/ovn"
	"github.com/stitchnfv/stitch/sfc/ovntest"
)

func TestRenderCreatesTopologyNorthdAccepts(t *testing.T) {
	t.Parallel()
	env := ovntest.Start(t)
	c := dial(t, env)

	ch := render(t, c, nsA, twoSwitch())
	assertChanges(t, ch, []string{
		"Logical_Switch 0a1b2c3d4e5f-front", "Logical_Switch 0a1b2c3d4e5f-back",
		"Logical_Switch_Port 0a1b2c3d4e5f-client", "Logical_Switch_Port 0a1b2c3d4e5f-web0",
		"Logical_Switch_Port 0a1b2c3d4e5f-web0-back", "Logical_Switch_Port 0a1b2c3d4e5f-db0",
		"Port_Group pg_0a1b2c3d4e5f_web", "Port_Group pg_0a1b2c3d4e5f_db",
		"ACL pg_0a1b2c3d4e5f_web-tcp8080", "ACL pg_0a1b2c3d4e5f_web-icmp", "ACL pg_0a1b2c3d4e5f_web-deny",
		"ACL pg_0a1b2c3d4e5f_db-tcp5432", "ACL pg_0a1b2c3d4e5f_db-deny",
	}, nil, nil)

	if again := render(t, c, nsA, twoSwitch()); !again.Empty() {
		t.Errorf("second render changed:\n%s", again)
	}
	// Identity lives in NB, not in the client: a new client agrees.
	if again := render(t, dial(t, env), nsA, twoSwitch()); !again.Empty() {
		t.Errorf("render through a fresh client changed:\n%s", again)
	}

	show := env.NBCtl(t, "show")
	for _, want := range []string{
		`switch `, `(0a1b2c3d4e5f-front)`, `(0a1b2c3d4e5f-back)`,
		`port 0a1b2c3d4e5f-web0`, `addresses: ["0a:00:00:00:01:14 10.0.1.20"]`,
		`port 0a1b2c3d4e5f-db0`, `addresses: ["0a:00:00:00:02:1e 10.0.2.30"]`,
	} {
		if !strings.Contains(show, want) {
			t.Errorf("ovn-nbctl show lacks %q:\n%s", want, show)
		}
	}
	if ps := env.NBCtl(t, "lsp-get-port-security", "0a1b2c3d4e5f-web0"); strings.TrimSpace(ps) != "0a:00:00:00:01:14 10.0.1.20" {
		t.Errorf("port security of web0 = %q", ps)
	}
	acls := env.NBCtl(t, "acl-list", "pg_0a1b2c3d4e5f_web")
	for _, want := range []string{
		"to-lport  2000 (outport == @pg_0a1b2c3d4e5f_web && ip4 && tcp.dst == 8080) allow-related",
		"to-lport  2000 (outport == @pg_0a1b2c3d4e5f_web && ip4 && icmp4) allow-related",
		"to-lport  1000 (outport == @pg_0a1b2c3d4e5f_web && ip) drop",
	} {
		if !strings.Contains(acls, want) {
			t.Errorf("acl-list lacks %q:\n%s", want, acls)
		}
	}

	// northd translated it: the switch has a datapath and the ACL a flow.
	env.NBCtl(t, "--wait=sb", "--timeout=10", "sync")
	flows := env.SBCtl(t, "lflow-list", "0a1b2c3d4e5f-front")
	for _, want := range []string{
		`Datapath: "0a1b2c3d4e5f-front"`,
		"ls_out_acl",
		"tcp.dst == 8080",
		`outport == @pg_0a1b2c3d4e5f_web`,
	} {
		if !strings.Contains(flows, want) {
			t.Errorf("lflow-list of front lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("lflow-list:\n%s", flows)
	}
}

func TestRenderAppliesOnlyTheDifference(t *testing.T) {
	t.Parallel()
	env := ovntest.Start(t)
	c := dial(t, env)
	render(t, c, nsA, twoSwitch())

	// Scale web out by one port and stop exposing ICMP.
	want := twoSwitch()
	want.Switches[0].Ports = append(want.Switches[0].Ports, ovn.Port{
		Name: "web1", MAC: "0a:00:00:00:01:15", IPs: []netip.Addr{netip.MustParseAddr("10.0.1.21")}})
	want.PortGroups[0].Ports = append(want.PortGroups[0].Ports, "web1")
	want.PortGroups[0].Allow = want.PortGroups[0].Allow[:1]

	ch := render(t, c, nsA, want)
	assertChanges(t, ch,
		[]string{"Logical_Switch_Port 0a1b2c3d4e5f-web1"},
		[]string{"Logical_Switch 0a1b2c3d4e5f-front", "Port_Group pg_0a1b2c3d4e5f_web"},
		[]string{"ACL pg_0a1b2c3d4e5f_web-icmp"})
	if again := render(t, c, nsA, want); !again.Empty() {
		t.Errorf("re-render changed:\n%s", again)
	}
	acls := env.NBCtl(t, "acl-list", "pg_0a1b2c3d4e5f_web")
	if strings.Contains(acls, "icmp4") || !strings.Contains(acls, "tcp.dst == 8080") {
		t.Errorf("acl-list after dropping icmp:\n%s", acls)
	}
	ports := env.NBCtl(t, "--bare", "--columns=ports", "list", "Port_Group", "pg_0a1b2c3d4e5f_web")
	if n := len(strings.Fields(ports)); n != 2 {
		t.Errorf("web group has %d ports, want 2: %q", n, ports)
	}

	// web1 answers a service router's clients with the VIP as source: the
	// VIP joins its port security, not its addresses.
	want.Switches[0].Ports[2].ServesFrom = []netip.Addr{netip.MustParseAddr("10.0.1.100")}
	ch = render(t, c, nsA, want)
	assertChanges(t, ch, nil, []string{"Logical_Switch_Port 0a1b2c3d4e5f-web1"}, nil)
	if sec := env.NBCtl(t, "lsp-get-port-security", "0a1b2c3d4e5f-web1"); !strings.Contains(sec, "10.0.1.21 10.0.1.100") {
		t.Errorf("web1 port security %q lacks the VIP", sec)
	}
	if addrs := env.NBCtl(t, "lsp-get-addresses", "0a1b2c3d4e5f-web1"); strings.Contains(addrs, "10.0.1.100") {
		t.Errorf("web1 addresses %q include the VIP", addrs)
	}
	want.Switches[0].Ports[2].ServesFrom = nil

	// Move a port to the other switch and change its address in place.
	want.Switches[0].Ports = want.Switches[0].Ports[:2]
	want.Switches[1].Ports = append(want.Switches[1].Ports, ovn.Port{
		Name: "web1", MAC: "0a:00:00:00:02:15", IPs: []netip.Addr{netip.MustParseAddr("10.0.2.21")}})
	ch = render(t, c, nsA, want)
	assertChanges(t, ch, nil, []string{
		"Logical_Switch 0a1b2c3d4e5f-front", "Logical_Switch 0a1b2c3d4e5f-back",
		"Logical_Switch_Port 0a1b2c3d4e5f-web1",
	}, nil)
	if got := env.NBCtl(t, "lsp-get-ls", "0a1b2c3d4e5f-web1"); !strings.Contains(got, "0a1b2c3d4e5f-back") {
		t.Errorf("web1 is on %q, want the back switch", got)
	}
}

func TestRenderRejectsBadInputAndChangesNothing(t *testing.T) {
	t.Parallel()
	env := ovntest.Start(t)
	c := dial(t, env)
	bad := twoSwitch()
	bad.Switches[0].Ports[0].IPs = []netip.Addr{netip.MustParseAddr("192.168.9.9")}
	bad.PortGroups[1].Ports = []string{"nope"}
	bad.Switches[1].Ports[0].ServesFrom = []netip.Addr{{}}
	_, err := c.Render(t.Context(), nsA, bad)
	if err == nil || !strings.Contains(err.Error(), "switches[0].ports[0].ips[0]") || !strings.Contains(err.Error(), "portGroups[1].ports[0]") ||
		!strings.Contains(err.Error(), "switches[1].ports[0].servesFrom[0]") {
		t.Fatalf("Render(bad) error = %v, want every field path", err)
	}
	if out := env.NBCtl(t, "ls-list"); out != "" {
		t.Errorf("bad input wrote switches: %s", out)
	}
	if _, err := c.Render(t.Context(), "not-a-uuid", twoSwitch()); err == nil {
		t.Error("Render accepted an NS id without hex digits")
	}
}

// TestRenderStatelessRulesAndOpenGroups: stateless rules become
// allow-stateless ACLs in their direction, an open group gets no default
// deny, and a bad stateless rule is refused by its field path.
func TestRenderStatelessRulesAndOpenGroups(t *testing.T) {
	t.Parallel()
	env := ovntest.Start(t)
	c := dial(t, env)
	want := twoSwitch()
	vip, router := netip.MustParseAddr("10.0.1.100"), netip.MustParseAddr("10.0.1.254")
	want.PortGroups = append(want.PortGroups, ovn.PortGroup{Name: "dsr", Ports: []string{"client", "web0"}, Open: true,
		Stateless: []ovn.StatelessRule{
			{Direction: "from", Protocol: "tcp", Dst: vip, DstPort: 8080},
			{Direction: "to", Protocol: "tcp", Src: vip, SrcPort: 8080},
			{Direction: "to", Protocol: "ipip", Src: router},
		}})
	render(t, c, nsA, want)
	acls := env.NBCtl(t, "acl-list", "pg_0a1b2c3d4e5f_dsr")
	for _, line := range []string{
		"from-lport  2000 (inport == @pg_0a1b2c3d4e5f_dsr && ip4 && ip4.dst == 10.0.1.100 && tcp && tcp.dst == 8080) allow-stateless",
		"to-lport  2000 (outport == @pg_0a1b2c3d4e5f_dsr && ip4 && ip4.src == 10.0.1.100 && tcp && tcp.src == 8080) allow-stateless",
		"to-lport  2000 (outport == @pg_0a1b2c3d4e5f_dsr && ip4 && ip4.src == 10.0.1.254 && ip.proto == 4) allow-stateless",
	} {
		if !strings.Contains(acls, line) {
			t.Errorf("ACLs of the open group lack %q:\n%s", line, acls)
		}
	}
	if strings.Contains(acls, "drop") {
		t.Errorf("an open group got a default deny:\n%s", acls)
	}

	bad := want
	bad.PortGroups = append([]ovn.PortGroup(nil), want.PortGroups...)
	bad.PortGroups[2].Stateless = []ovn.StatelessRule{{Direction: "sideways", Protocol: "ipip", DstPort: 1}}
	_, err := c.Render(t.Context(), nsA, bad)
	if err == nil || !strings.Contains(err.Error(), "portGroups[2].stateless[0]") || !strings.Contains(err.Error(), "sideways") ||
		!strings.Contains(err.Error(), "ipip has no ports") {
		t.Fatalf("Render(bad stateless rule) error = %v", err)
	}
	if again := env.NBCtl(t, "acl-list", "pg_0a1b2c3d4e5f_dsr"); again != acls {
		t.Errorf("a refused render changed the ACLs:\n%s", again)
	}
}

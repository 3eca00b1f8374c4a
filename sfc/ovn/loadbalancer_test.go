package ovn_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/sfc/ovn"
	"github.com/stitchnfv/stitch/sfc/ovntest"
)

var addrPort = netip.MustParseAddrPort

// withSAP is stitch's example shape: clients and the entry function (an L7
// proxy, group fw, two instances) on "access", web on "service", a router
// between them. The service access point 10.10.0.100:8080 is a load
// balancer over the fw instances; web admits tcp/8080 only from fw and its
// health-check port only from the probes' addresses.
func withSAP() ovn.Network {
	port := func(name, mac, addr string) ovn.Port {
		return ovn.Port{Name: name, MAC: mac, IPs: []netip.Addr{ip(addr)}}
	}
	return ovn.Network{
		Switches: []ovn.Switch{
			{Name: "access", CIDR: cidr("10.10.0.0/24"), Ports: []ovn.Port{
				port("client", "0a:00:00:00:00:0a", "10.10.0.10"),
				port("fw0", "0a:00:00:00:00:14", "10.10.0.20"),
				port("fw1", "0a:00:00:00:00:15", "10.10.0.21"),
			}},
			{Name: "service", CIDR: cidr("10.10.1.0/24"), Ports: []ovn.Port{port("web0", "0a:00:00:00:01:1e", "10.10.1.30")}},
		},
		PortGroups: []ovn.PortGroup{
			{Name: "fw", Ports: []string{"fw0", "fw1"}, Allow: []ovn.Rule{{Protocol: "tcp", Port: 8080}}},
			{Name: "web", Ports: []string{"web0"}, Allow: []ovn.Rule{
				{Protocol: "tcp", Port: 8080, FromGroups: []string{"fw"}},
				{Protocol: "tcp", Port: 9100, FromCIDRs: []netip.Prefix{cidr("10.9.0.0/24"), cidr("10.10.0.10/32")}},
			}},
		},
		Routers: []ovn.Router{{Name: "r", Ports: []ovn.RouterPort{
			{Switch: "access", MAC: "0a:00:00:00:ff:01", CIDR: cidr("10.10.0.1/24")},
			{Switch: "service", MAC: "0a:00:00:00:ff:02", CIDR: cidr("10.10.1.1/24")},
		}}},
		LoadBalancers: []ovn.LoadBalancer{{
			Name: "sap", VIP: addrPort("10.10.0.100:8080"), Protocol: "tcp",
			Backends: []netip.AddrPort{addrPort("10.10.0.20:8080"), addrPort("10.10.0.21:8080")},
			Switches: []string{"access"}, Routers: []string{"r"},
		}},
	}
}

func TestRenderLoadBalancerAndSourceRules(t *testing.T) {
	t.Parallel()
	env := ovntest.Start(t)
	c := dial(t, env)
	const p = "0a1b2c3d4e5f-"
	get := func(args ...string) string {
		return strings.TrimSpace(env.NBCtl(t, append([]string{"--bare", "--columns=_uuid"}, args...)...))
	}

	// A second writer's load balancer, left alone throughout.
	env.NBCtl(t, "lb-add", "other-lb", "192.0.2.1:80", "192.0.2.10:80", "tcp")

	ch := render(t, c, nsA, withSAP())
	for _, want := range []string{"Load_Balancer " + p + "sap", "ACL pg_0a1b2c3d4e5f_web-tcp8080-from-fw",
		"ACL pg_0a1b2c3d4e5f_web-tcp9100-from-10.9.0.0/24+10.10.0.10/32"} {
		if !strings.Contains(ch.String(), want) {
			t.Errorf("first render lacks %q:\n%s", want, ch)
		}
	}
	if again := render(t, c, nsA, withSAP()); !again.Empty() {
		t.Errorf("second render changed:\n%s", again)
	}
	if again := render(t, dial(t, env), nsA, withSAP()); !again.Empty() {
		t.Errorf("render through a fresh client changed:\n%s", again)
	}

	acls := env.NBCtl(t, "acl-list", "pg_0a1b2c3d4e5f_web")
	for _, want := range []string{
		"outport == @pg_0a1b2c3d4e5f_web && ip4 && ip4.src == $pg_0a1b2c3d4e5f_fw_ip4 && tcp.dst == 8080",
		"outport == @pg_0a1b2c3d4e5f_web && ip4 && ip4.src == {10.10.0.10/32, 10.9.0.0/24} && tcp.dst == 9100",
	} {
		if !strings.Contains(acls, want) {
			t.Errorf("web's ACLs lack %q:\n%s", want, acls)
		}
	}
	// northd derives the group's address set, which the ACL refers to.
	env.NBCtl(t, "--wait=sb", "sync")
	if as := env.SBCtl(t, "--bare", "--columns=addresses", "find", "Address_Set", "name=pg_0a1b2c3d4e5f_fw_ip4"); !strings.Contains(as, "10.10.0.20") ||
		!strings.Contains(as, "10.10.0.21") {
		t.Errorf("SB address set pg_0a1b2c3d4e5f_fw_ip4 = %q, want fw0's and fw1's addresses", as)
	}

	lbUUID := get("find", "Load_Balancer", "name="+p+"sap")
	if lb := env.NBCtl(t, "lb-list", p+"sap"); !strings.Contains(lb, "10.10.0.100:8080") ||
		!strings.Contains(lb, "10.10.0.20:8080,10.10.0.21:8080") || !strings.Contains(lb, "tcp") {
		t.Errorf("lb-list:\n%s", lb)
	}
	if out := env.NBCtl(t, "ls-lb-list", p+"access"); !strings.Contains(out, p+"sap") {
		t.Errorf("access switch lacks the load balancer:\n%s", out)
	}
	if out := env.NBCtl(t, "ls-lb-list", p+"service"); strings.Contains(out, p+"sap") {
		t.Errorf("service switch has the load balancer:\n%s", out)
	}
	if out := env.NBCtl(t, "lr-lb-list", p+"r"); !strings.Contains(out, p+"sap") {
		t.Errorf("router lacks the load balancer:\n%s", out)
	}
	arpProxy := func(sw string) string {
		out, _ := env.Ctl(t.Context(), "ovn-nbctl", "--db="+env.NB(), "--if-exists", "get", "Logical_Switch_Port",
			p+"r:"+sw+":peer", "options:arp_proxy")
		return strings.Trim(strings.TrimSpace(out), `"`)
	}
	if got := arpProxy("access"); got != "10.10.0.100" {
		t.Errorf("access peer port arp_proxy = %q, want the VIP", got)
	}
	if got := arpProxy("service"); got != "" {
		t.Errorf("service peer port arp_proxy = %q, want none (the VIP is not in its subnet)", got)
	}

	// Another writer attaches its load balancer to NS A's access switch.
	env.NBCtl(t, "ls-lb-add", p+"access", "other-lb")

	// Scale out: only the backends change, in place.
	want := withSAP()
	want.LoadBalancers[0].Backends = append(want.LoadBalancers[0].Backends, addrPort("10.10.0.22:8080"))
	assertChanges(t, render(t, c, nsA, want), nil, []string{"Load_Balancer " + p + "sap"}, nil)
	if got := get("find", "Load_Balancer", "name="+p+"sap"); got != lbUUID {
		t.Errorf("load balancer row replaced (%s → %s), want an in-place update", lbUUID, got)
	}
	if lb := env.NBCtl(t, "lb-list", p+"sap"); !strings.Contains(lb, "10.10.0.20:8080,10.10.0.21:8080,10.10.0.22:8080") {
		t.Errorf("lb-list after scale-out:\n%s", lb)
	}

	// Invalid input changes nothing.
	bad := withSAP()
	bad.PortGroups[1].Allow[0].FromGroups = []string{"nope"}
	bad.LoadBalancers[0].Backends = nil
	if _, err := c.Render(t.Context(), nsA, bad); err == nil ||
		!strings.Contains(err.Error(), "portGroups[1].allow[0].fromGroups[0]") ||
		!strings.Contains(err.Error(), "loadBalancers[0].backends") {
		t.Errorf("Render(invalid) = %v, want errors naming both fields", err)
	}
	if again := render(t, c, nsA, want); !again.Empty() {
		t.Errorf("rejected render changed something:\n%s", again)
	}

	// Dropping the load balancer deletes it, detaches it and withdraws
	// the proxy ARP; the other writer's load balancer stays attached.
	want.LoadBalancers = nil
	assertChanges(t, render(t, c, nsA, want), nil,
		[]string{"Logical_Router " + p + "r", "Logical_Switch " + p + "access", "Logical_Switch_Port " + p + "r:access:peer"},
		[]string{"Load_Balancer " + p + "sap"})
	if got := arpProxy("access"); got != "" {
		t.Errorf("arp_proxy = %q after the load balancer went, want none", got)
	}
	if out := env.NBCtl(t, "ls-lb-list", p+"access"); !strings.Contains(out, "other-lb") {
		t.Errorf("the other writer's load balancer was detached from the access switch:\n%s", out)
	}
	if again := render(t, c, nsA, want); !again.Empty() {
		t.Errorf("second render without the load balancer changed:\n%s", again)
	}

	render(t, c, nsA, withSAP())
	if _, err := c.Remove(t.Context(), nsA); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"Logical_Switch", "Logical_Switch_Port", "Logical_Router", "Load_Balancer", "ACL"} {
		if out := get("find", table, "external_ids:stitch.ns-instance="+nsA); out != "" {
			t.Errorf("%s rows of NS A left after Remove: %q", table, out)
		}
	}
	if out := get("find", "Load_Balancer", "name=other-lb"); out == "" {
		t.Error("Remove deleted the other writer's load balancer")
	}
}

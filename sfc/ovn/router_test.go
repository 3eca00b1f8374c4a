package ovn_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/sfc/ovn"
	"github.com/stitchnfv/stitch/sfc/ovntest"
)

var (
	ip   = netip.MustParseAddr
	cidr = netip.MustParsePrefix
)

// chained is a client, a firewall with two instances, a load balancer and
// a web front end, each on a switch of its own around one router; tcp/80
// from the client walks fw → lb before the router delivers it to web.
func chained() ovn.Network {
	sw := func(name, subnet, mac, addr string) ovn.Switch {
		return ovn.Switch{Name: name, CIDR: cidr(subnet), Ports: []ovn.Port{{Name: name + "0", MAC: mac, IPs: []netip.Addr{ip(addr)}}}}
	}
	n := ovn.Network{Switches: []ovn.Switch{
		sw("cl", "10.0.1.0/24", "0a:00:00:00:01:0a", "10.0.1.10"),
		sw("fw", "10.0.2.0/24", "0a:00:00:00:02:0a", "10.0.2.10"),
		sw("lb", "10.0.3.0/24", "0a:00:00:00:03:0a", "10.0.3.10"),
		sw("web", "10.0.4.0/24", "0a:00:00:00:04:0a", "10.0.4.10"),
	}}
	n.Switches[1].Ports = append(n.Switches[1].Ports, ovn.Port{Name: "fw1", MAC: "0a:00:00:00:02:0b", IPs: []netip.Addr{ip("10.0.2.11")}})
	// Firewall and load balancer instances forward others' packets.
	for _, i := range []int{1, 2} {
		for j := range n.Switches[i].Ports {
			n.Switches[i].Ports[j].Forwards = true
		}
	}
	r := ovn.Router{Name: "r"}
	for i, s := range n.Switches {
		r.Ports = append(r.Ports, ovn.RouterPort{Switch: s.Name, MAC: "0a:00:00:00:ff:0" + string(rune('1'+i)),
			CIDR: netip.PrefixFrom(s.CIDR.Addr().Next(), s.CIDR.Bits())})
	}
	const cls = "ip4.dst == 10.0.4.0/24 && tcp.dst == 80"
	r.Policies = []ovn.Policy{
		{Priority: 200, Switch: "cl", Match: cls, Nexthops: []netip.Addr{ip("10.0.2.10"), ip("10.0.2.11")}},
		{Priority: 190, Switch: "fw", Match: cls, Nexthops: []netip.Addr{ip("10.0.3.10")}},
	}
	n.Routers = []ovn.Router{r}
	return n
}

func TestRenderRouterAndChainPolicies(t *testing.T) {
	t.Parallel()
	env := ovntest.Start(t)
	c := dial(t, env)

	const p = "0a1b2c3d4e5f-"
	ch := render(t, c, nsA, chained())
	for _, want := range []string{
		"Logical_Router " + p + "r",
		"Logical_Router_Port " + p + "r:fw",
		"Logical_Switch_Port " + p + "r:fw:peer",
		`Logical_Router_Policy r/200/inport == "` + p + `r:cl" && (ip4.dst == 10.0.4.0/24 && tcp.dst == 80)`,
	} {
		if !strings.Contains(ch.String(), want) {
			t.Errorf("first render lacks %q:\n%s", want, ch)
		}
	}
	if again := render(t, c, nsA, chained()); !again.Empty() {
		t.Errorf("second render changed:\n%s", again)
	}
	if again := render(t, dial(t, env), nsA, chained()); !again.Empty() {
		t.Errorf("render through a fresh client changed:\n%s", again)
	}

	if out := env.NBCtl(t, "lr-list"); !strings.Contains(out, "("+p+"r)") {
		t.Errorf("lr-list lacks the router:\n%s", out)
	}
	pol := env.NBCtl(t, "lr-policy-list", p+"r")
	for _, want := range []string{
		`200 inport == "` + p + `r:cl" && (ip4.dst == 10.0.4.0/24 && tcp.dst == 80)         reroute                 10.0.2.10, 10.0.2.11`,
		`190 inport == "` + p + `r:fw" && (ip4.dst == 10.0.4.0/24 && tcp.dst == 80)         reroute                 10.0.3.10`,
	} {
		if !strings.Contains(squash(pol), squash(want)) {
			t.Errorf("lr-policy-list lacks %q:\n%s", want, pol)
		}
	}
	if got := env.NBCtl(t, "--bare", "--columns=type,options", "list", "Logical_Switch_Port", p+"r:fw:peer"); !strings.Contains(got, "router") ||
		!strings.Contains(got, "router-port="+p+"r:fw\n") {
		t.Errorf("peer port of r:fw: %q", got)
	}

	if ps := env.NBCtl(t, "lsp-get-port-security", p+"fw1"); strings.TrimSpace(ps) != "0a:00:00:00:02:0b" {
		t.Errorf("port security of a forwarding port = %q, want its MAC only", ps)
	}

	// northd turned the policies into the router's policy stage.
	env.NBCtl(t, "--wait=sb", "--timeout=10", "sync")
	flows := env.SBCtl(t, "lflow-list", p+"r")
	for _, want := range []string{"lr_in_policy", `inport == "` + p + `r:cl"`, "reg0 = 10.0.2.10", "reg0 = 10.0.3.10", "lr_in_policy_ecmp"} {
		if !strings.Contains(flows, want) {
			t.Errorf("lflow-list of the router lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("lflow-list:\n%s", flows)
	}

	// Scale the firewall in to one instance: the policy row is updated in
	// place, nothing else changes.
	want := chained()
	want.Routers[0].Policies[0].Nexthops = want.Routers[0].Policies[0].Nexthops[:1]
	ch = render(t, c, nsA, want)
	if len(ch.Created)+len(ch.Deleted) != 0 || len(ch.Updated) != 1 || !strings.HasPrefix(ch.Updated[0], "Logical_Router_Policy r/200/") {
		t.Errorf("scale-in changed more than one policy:\n%s", ch)
	}
	if pol := env.NBCtl(t, "lr-policy-list", p+"r"); strings.Contains(pol, "10.0.2.11") {
		t.Errorf("removed next hop still listed:\n%s", pol)
	}

	// Dropping the router removes its ports, policies and peers only.
	want.Routers = nil
	ch = render(t, c, nsA, want)
	if len(ch.Created)+len(ch.Updated) != 4 || len(ch.Deleted) != 1+4+4+2 {
		t.Errorf("dropping the router: want 4 switches updated and 11 rows deleted:\n%s", ch)
	}
	if out := env.NBCtl(t, "lr-list"); out != "" {
		t.Errorf("router left: %s", out)
	}
	if again := render(t, c, nsA, want); !again.Empty() {
		t.Errorf("render after dropping the router changed:\n%s", again)
	}
}

func TestRouterOthersRowsStay(t *testing.T) {
	t.Parallel()
	env := ovntest.Start(t)
	c := dial(t, env)
	const p = "0a1b2c3d4e5f-"
	render(t, c, nsA, chained())
	render(t, c, nsB, chained())

	// A second writer: a router of its own, and a policy and port hooked
	// into NS A's router.
	env.NBCtl(t, "lr-add", "other-r", "--", "lr-policy-add", "other-r", "10", "ip4", "allow")
	env.NBCtl(t, "lr-policy-add", p+"r", "50", "ip4.src == 192.0.2.1", "drop")
	env.NBCtl(t, "lrp-add", p+"r", "other-lrp", "0a:00:00:00:ee:01", "192.0.2.1/24")

	want := chained()
	want.Routers[0].Policies = want.Routers[0].Policies[:1]
	ch := render(t, c, nsA, want)
	if len(ch.Deleted) != 1 || len(ch.Updated) != 1 || len(ch.Created) != 0 {
		t.Errorf("dropping one hop:\n%s", ch)
	}
	pol := env.NBCtl(t, "lr-policy-list", p+"r")
	if !strings.Contains(pol, "192.0.2.1") || strings.Contains(pol, "    190 ") {
		t.Errorf("policies of NS A's router after dropping a hop:\n%s", pol)
	}
	if out := env.NBCtl(t, "lrp-list", p+"r"); !strings.Contains(out, "other-lrp") {
		t.Errorf("foreign router port removed:\n%s", out)
	}
	// Remove must delete the router, with the foreign rows hooked into it
	// (OVSDB collects them); so the writer takes them back first.
	env.NBCtl(t, "lrp-del", "other-lrp", "--", "lr-policy-del", p+"r", "50", "ip4.src == 192.0.2.1")
	if _, err := c.Remove(t.Context(), nsA); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"Logical_Router", "Logical_Router_Port", "Logical_Router_Policy", "Logical_Switch_Port"} {
		if out := env.NBCtl(t, "--bare", "--columns=_uuid", "find", table, "external_ids:stitch.ns-instance="+nsA); out != "" {
			t.Errorf("%s rows of NS A left after Remove: %q", table, out)
		}
	}
	if out := env.NBCtl(t, "lr-policy-list", "other-r"); !strings.Contains(out, "allow") {
		t.Errorf("other writer's router lost its policy:\n%s", out)
	}
	if ch := render(t, c, nsB, chained()); !ch.Empty() {
		t.Errorf("NS B disturbed:\n%s", ch)
	}
}

// squash collapses runs of blanks, since ovn-nbctl pads its columns.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

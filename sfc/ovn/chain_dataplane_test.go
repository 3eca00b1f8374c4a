package ovn_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/sfc/ovn"
	"github.com/stitchnfv/stitch/sfc/ovntest"
)

// nsC names the chain data-plane test's NS; its names start c0ffee000002-.
const nsC = "c0ffee00-0002-4000-8000-000000000002"

// throughFirewall is client, a firewall of two instances and web, each on a switch of its own
// around router r; tcp/8080 from the client to web is rerouted through the
// firewall, everything else is routed directly.
func throughFirewall() ovn.Network {
	n := ovn.Network{Switches: []ovn.Switch{
		{Name: "cl", CIDR: cidr("10.0.1.0/24"), Ports: []ovn.Port{{Name: "client", MAC: "0a:00:00:00:01:0a", IPs: []netip.Addr{ip("10.0.1.10")}}}},
		{Name: "fw", CIDR: cidr("10.0.2.0/24"), Ports: []ovn.Port{
			{Name: "fw0", MAC: "0a:00:00:00:02:0a", IPs: []netip.Addr{ip("10.0.2.10")}, Forwards: true},
			{Name: "fw1", MAC: "0a:00:00:00:02:0b", IPs: []netip.Addr{ip("10.0.2.11")}, Forwards: true},
		}},
		{Name: "web", CIDR: cidr("10.0.4.0/24"), Ports: []ovn.Port{{Name: "web0", MAC: "0a:00:00:00:04:0a", IPs: []netip.Addr{ip("10.0.4.10")}}}},
	}}
	n.Routers = []ovn.Router{{
		Name: "r",
		Ports: []ovn.RouterPort{
			{Switch: "cl", MAC: "0a:00:00:00:ff:01", CIDR: cidr("10.0.1.1/24")},
			{Switch: "fw", MAC: "0a:00:00:00:ff:02", CIDR: cidr("10.0.2.1/24")},
			{Switch: "web", MAC: "0a:00:00:00:ff:04", CIDR: cidr("10.0.4.1/24")},
		},
		Policies: []ovn.Policy{{Priority: 200, Switch: "cl",
			Match: "ip4.dst == 10.0.4.0/24 && tcp.dst == 8080", Nexthops: []netip.Addr{ip("10.0.2.10"), ip("10.0.2.11")}}},
	}}
	return n
}

// connections is how many connections probe the balancing: with two
// instances, the chance that a hash puts all of them on one is 2^-15.
const connections = 16

func TestDataplaneChainCrossesFirewall(t *testing.T) {
	t.Parallel()
	env := ovntest.Start(t)
	ovntest.RequireChassis(t)
	start := time.Now()
	c := dial(t, env)
	render(t, c, nsC, throughFirewall())
	ch := env.AddChassis(t, "hv1", ovntest.ChassisOptions{})

	const prefix = "c0ffee000002-"
	client := ch.AttachPort(t, prefix+"client", "0a:00:00:00:01:0a", "10.0.1.10/24")
	fws := []string{
		ch.AttachPort(t, prefix+"fw0", "0a:00:00:00:02:0a", "10.0.2.10/24"),
		ch.AttachPort(t, prefix+"fw1", "0a:00:00:00:02:0b", "10.0.2.11/24"),
	}
	web := ch.AttachPort(t, prefix+"web0", "0a:00:00:00:04:0a", "10.0.4.10/24")
	ovntest.SetGateway(t, client, "10.0.1.1")
	ovntest.SetGateway(t, web, "10.0.4.1")
	for _, fw := range fws {
		ovntest.SetGateway(t, fw, "10.0.2.1")
		ovntest.EnableForwarding(t, fw)
	}
	env.NBCtl(t, "--wait=hv", "--timeout=10", "sync")
	t.Logf("OVN up and converged in %v", time.Since(start))

	ovntest.ServeEcho(t, web, "10.0.4.10:8080")
	ovntest.ServeEcho(t, web, "10.0.4.10:9090")

	// echo runs one connection and returns how many packets each firewall
	// instance forwarded for it.
	echo := func(addr string) []uint64 {
		t.Helper()
		var before []uint64
		for _, fw := range fws {
			before = append(before, ovntest.ForwardedPackets(t, fw))
		}
		if err := ovntest.Echo(client, addr, 3*time.Second); err != nil {
			t.Fatalf("client → web %s: %v", addr, err)
		}
		for i, fw := range fws {
			before[i] = ovntest.ForwardedPackets(t, fw) - before[i]
		}
		return before
	}

	// Unclassified traffic is routed straight to web: no instance
	// forwards anything.
	if n := echo("10.0.4.10:9090"); n[0]+n[1] != 0 {
		t.Errorf("firewall instances forwarded %v packets of unclassified traffic, want none", n)
	}

	// The chain's traffic crosses the firewall: each connection (handshake
	// and several data segments) entirely through one instance, since
	// ECMP hashes per flow, and the connections spread over both.
	used := make([]int, len(fws))
	for range connections {
		n := echo("10.0.4.10:8080")
		switch {
		case n[0] >= 5 && n[1] == 0:
			used[0]++
		case n[1] >= 5 && n[0] == 0:
			used[1]++
		default:
			t.Errorf("a chained connection was forwarded %v packets by the instances, want ≥ 5 by exactly one", n)
		}
	}
	if used[0] == 0 || used[1] == 0 {
		t.Errorf("connections per instance %v: ECMP should use both", used)
	}

	// Scale in to fw1: a re-render updates the next hops and all new
	// connections cross fw1.
	want := throughFirewall()
	want.Routers[0].Policies[0].Nexthops = want.Routers[0].Policies[0].Nexthops[1:]
	render(t, c, nsC, want)
	env.NBCtl(t, "--wait=hv", "--timeout=10", "sync")
	for range 4 {
		if n := echo("10.0.4.10:8080"); n[0] != 0 || n[1] < 5 {
			t.Errorf("after scale-in to fw1 the instances forwarded %v, want all on fw1", n)
		}
	}
	t.Logf("traffic checked after %v (connections per instance %v)", time.Since(start), used)
}

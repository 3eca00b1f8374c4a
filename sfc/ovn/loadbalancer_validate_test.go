package ovn

import (
	"net/netip"
	"strings"
	"testing"
)

func TestValidateSourcesAndLoadBalancersNameFieldPaths(t *testing.T) {
	with := func(mod func(*Network)) Network {
		n := Network{
			Switches: []Switch{{Name: "access", CIDR: netip.MustParsePrefix("10.10.0.0/24"), Ports: []Port{
				{Name: "lb0", MAC: "0a:00:00:00:00:01", IPs: []netip.Addr{netip.MustParseAddr("10.10.0.20")}},
				{Name: "web0", MAC: "0a:00:00:00:00:02", IPs: []netip.Addr{netip.MustParseAddr("10.10.0.30")}},
			}}},
			PortGroups: []PortGroup{
				{Name: "web", Ports: []string{"web0"}, Allow: []Rule{{Protocol: "tcp", Port: 8080,
					FromGroups: []string{"lb"}, FromCIDRs: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/24")}}}},
				{Name: "lb", Ports: []string{"lb0"}}, // named after its first use
			},
			Routers: []Router{{Name: "r", Ports: []RouterPort{{Switch: "access", MAC: "0a:00:00:00:ff:01",
				CIDR: netip.MustParsePrefix("10.10.0.1/24")}}}},
			LoadBalancers: []LoadBalancer{{Name: "sap", VIP: netip.MustParseAddrPort("10.10.0.100:8080"), Protocol: "tcp",
				Backends: []netip.AddrPort{netip.MustParseAddrPort("10.10.0.20:8080")},
				Switches: []string{"access"}, Routers: []string{"r"}}},
		}
		mod(&n)
		return n
	}
	if err := with(func(*Network) {}).validate(); err != nil {
		t.Fatalf("valid network rejected: %v", err)
	}
	ap := netip.MustParseAddrPort
	for _, tc := range []struct {
		want string
		net  Network
	}{
		{"portGroups[0].allow[0].fromGroups[0]: no port group \"db\"", with(func(n *Network) { n.PortGroups[0].Allow[0].FromGroups[0] = "db" })},
		{"portGroups[0].allow[0].fromCIDRs[0]", with(func(n *Network) { n.PortGroups[0].Allow[0].FromCIDRs[0] = netip.Prefix{} })},
		{"portGroups[0].allow[0].fromCIDRs[0]", with(func(n *Network) {
			n.PortGroups[0].Allow[0].FromCIDRs[0] = netip.MustParsePrefix("fd00::/64")
		})},
		{"loadBalancers[0].name", with(func(n *Network) { n.LoadBalancers[0].Name = "a:b" })},
		{"loadBalancers[1].name: duplicate", with(func(n *Network) {
			lb := n.LoadBalancers[0]
			lb.VIP = ap("10.10.0.101:80")
			n.LoadBalancers = append(n.LoadBalancers, lb)
		})},
		{"loadBalancers[1].vip: tcp 10.10.0.100:8080 is already", with(func(n *Network) {
			lb := n.LoadBalancers[0]
			lb.Name = "other"
			n.LoadBalancers = append(n.LoadBalancers, lb)
		})},
		{"loadBalancers[0].vip", with(func(n *Network) { n.LoadBalancers[0].VIP = netip.AddrPort{} })},
		{"loadBalancers[0].vip: 10.10.0.100:0 has no port", with(func(n *Network) { n.LoadBalancers[0].VIP = ap("10.10.0.100:0") })},
		{"loadBalancers[0].vip", with(func(n *Network) { n.LoadBalancers[0].VIP = ap("[fd00::1]:80") })},
		{"loadBalancers[0].protocol", with(func(n *Network) { n.LoadBalancers[0].Protocol = "sctp" })},
		{"loadBalancers[0].backends: at least one", with(func(n *Network) { n.LoadBalancers[0].Backends = nil })},
		{"loadBalancers[0].backends[0]", with(func(n *Network) { n.LoadBalancers[0].Backends[0] = ap("10.10.0.20:0") })},
		{"loadBalancers[0].backends[1]: duplicate", with(func(n *Network) {
			n.LoadBalancers[0].Backends = append(n.LoadBalancers[0].Backends, n.LoadBalancers[0].Backends[0])
		})},
		{"loadBalancers[0].switches[0]: no switch \"x\"", with(func(n *Network) { n.LoadBalancers[0].Switches[0] = "x" })},
		{"loadBalancers[0].routers[0]: no router \"x\"", with(func(n *Network) { n.LoadBalancers[0].Routers[0] = "x" })},
		{"loadBalancers[0].switches: applies on no switch", with(func(n *Network) {
			n.LoadBalancers[0].Switches, n.LoadBalancers[0].Routers = nil, nil
		})},
	} {
		err := tc.net.validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("validate() = %v, want an error naming %q", err, tc.want)
		}
	}
}

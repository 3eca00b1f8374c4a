package ovn

import (
	"net/netip"
	"strings"
	"testing"
)

func TestValidateRoutersNamesFieldPaths(t *testing.T) {
	sw := Switch{Name: "a", CIDR: netip.MustParsePrefix("10.0.0.0/24")}
	port := RouterPort{Switch: "a", MAC: "0a:00:00:00:00:01", CIDR: netip.MustParsePrefix("10.0.0.1/24")}
	hop := []netip.Addr{netip.MustParseAddr("10.0.0.5")}
	pol := Policy{Priority: 100, Switch: "a", Match: "ip4", Nexthops: hop}
	with := func(mod func(*Router)) Network {
		r := Router{Name: "r", Ports: []RouterPort{port}, Policies: []Policy{pol}}
		mod(&r)
		return Network{Switches: []Switch{sw}, Routers: []Router{r}}
	}
	if err := with(func(*Router) {}).validate(); err != nil {
		t.Fatalf("valid network rejected: %v", err)
	}
	for _, tc := range []struct {
		want string
		net  Network
	}{
		{"routers[0].name", with(func(r *Router) { r.Name = "r:1" })},
		{"routers[0].ports[0].switch: no switch", with(func(r *Router) { r.Ports[0].Switch = "b" })},
		{"routers[0].ports[1].switch: router already", with(func(r *Router) { r.Ports = append(r.Ports, port) })},
		{"routers[0].ports[0].mac", with(func(r *Router) { r.Ports[0].MAC = "x" })},
		{"routers[0].ports[0].cidr", with(func(r *Router) { r.Ports[0].CIDR = netip.MustParsePrefix("10.9.0.1/24") })},
		{"routers[0].ports[0].cidr", with(func(r *Router) { r.Ports[0].CIDR = netip.MustParsePrefix("10.0.0.1/16") })},
		{"routers[0].policies[0].priority", with(func(r *Router) { r.Policies[0].Priority = 0 })},
		{"routers[0].policies[0].switch", with(func(r *Router) { r.Policies[0].Switch = "b" })},
		{"routers[0].policies[0].match", with(func(r *Router) { r.Policies[0].Match = "" })},
		{"routers[0].policies[1]: duplicate", with(func(r *Router) { r.Policies = append(r.Policies, pol) })},
		{"routers[0].policies[0].nexthops: at least", with(func(r *Router) { r.Policies[0].Nexthops = nil })},
		{"routers[0].policies[0].nexthops[0]", with(func(r *Router) { r.Policies[0].Nexthops = []netip.Addr{netip.MustParseAddr("192.0.2.1")} })},
	} {
		err := tc.net.validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("validate() = %v, want an error naming %q", err, tc.want)
		}
	}
}

package nfvo

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/servicerouter/control"
	"github.com/stitchnfv/stitch/sfc/ovn"
	"github.com/stitchnfv/stitch/vnfm"
)

func TestRouterAddress(t *testing.T) {
	for _, tc := range []struct{ cidr, want string }{
		{"10.30.0.0/24", "10.30.0.254"},
		{"10.30.0.7/24", "10.30.0.254"}, // host bits ignored
		{"10.30.0.16/28", "10.30.0.30"},
		{"10.0.0.0/8", "10.255.255.254"},
		{"10.30.0.0/29", ""}, // too small
		{"fd00::/64", ""},
		{"nonsense", ""},
	} {
		got, err := routerAddress(tc.cidr)
		if tc.want == "" {
			if err == nil {
				t.Errorf("routerAddress(%s) = %v, want an error", tc.cidr, got)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("routerAddress(%s) = %v, %v; want %s", tc.cidr, got, err, tc.want)
		}
	}
}

// TestPlanWithRouters: the complex service's SAP gets a router
// constituent in a first layer of its own, on the entry's virtual link,
// and the SAP is served by it instead of an OVN load balancer: the router
// port also holds the SAP's address, the entry instances may answer from
// it, and the SAP's traffic and tunnels skip conntrack on the link.
func TestPlanWithRouters(t *testing.T) {
	ns, p := examplePlan(t)
	o := &Orchestrator{cfg: Config{Router: &RouterConfig{Program: "stitch-router"}}}
	if err := o.addRouters(p); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.layers[0], []string{"sr-web-entry"}) {
		t.Fatalf("first layer %v, want the router", p.layers[0])
	}
	c, err := p.constituent("sr-web-entry")
	if err != nil {
		t.Fatal(err)
	}
	if vl, err := cpLink(p, c, routerVDU, routerCP); err != nil || vl != "access" {
		t.Fatalf("router on %q, %v; want the entry's link access", vl, err)
	}
	if reps := p.initialReplicas(); reps["sr-web-entry/router"] != 1 {
		t.Errorf("router replicas %v", reps)
	}
	if err := o.addRouters(p); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("a profile named like the router was accepted: %v", err)
	}

	vnfcs := append(exampleVnfcs(ns.ID, VnfcHealthy), Vnfc{ID: "r0", NsID: ns.ID, Profile: "sr-web-entry", VDU: routerVDU,
		State: VnfcHealthy, Addresses: map[string]string{routerCP: "10.10.0.254"}})
	want, err := desiredWiring(ns.ID, p, exampleNetworks(ns.ID), vnfcs)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.LoadBalancers) != 0 {
		t.Errorf("the SAP is still a load balancer: %+v", want.LoadBalancers)
	}
	// An NS instantiated before routers existed has none: its SAP stays
	// an OVN load balancer.
	if old, err := desiredWiring(ns.ID, p, exampleNetworks(ns.ID), exampleVnfcs(ns.ID, VnfcHealthy)); err != nil || len(old.LoadBalancers) != 1 {
		t.Errorf("without a router instance: load balancers %+v, %v; want the SAP's", old.LoadBalancers, err)
	}
	vip := netip.MustParseAddr("10.10.0.100")
	ports := map[string]ovn.Port{}
	for _, sw := range want.Switches {
		for _, port := range sw.Ports {
			ports[port.Name] = port
		}
	}
	if r := ports[instancePortName(ns.ID, "r0", routerCP)]; !slices.Contains(r.IPs, vip) {
		t.Errorf("router port %+v does not hold the SAP's address", r)
	}
	fw := ports[instancePortName(ns.ID, vnfcName(ns.ID, "fw", "firewall", false, 0), "data")]
	if !slices.Equal(fw.ServesFrom, []netip.Addr{vip}) || slices.Contains(fw.IPs, vip) {
		t.Errorf("entry port %+v: want the SAP's address in ServesFrom only", fw)
	}
	var dsr *ovn.PortGroup
	for i, g := range want.PortGroups {
		if g.Name == "dsr-web-entry" {
			dsr = &want.PortGroups[i]
		}
	}
	if dsr == nil || !dsr.Open || len(dsr.Stateless) != 6 || !slices.Contains(dsr.Ports, fw.Name) {
		t.Fatalf("direct-return group %+v", dsr)
	}
	if !slices.Contains(dsr.Stateless, ovn.StatelessRule{Direction: "to", Protocol: "ipip", Src: netip.MustParseAddr("10.10.0.254")}) {
		t.Errorf("the router's tunnels are not exempt: %+v", dsr.Stateless)
	}

	// The entry's port serves the SAP's address from the router's
	// tunnels; the router's forwards; others are plain.
	for _, tc := range []struct{ profile, vdu, want string }{
		{"fw", "firewall", "[10.10.0.100] [10.10.0.254] false"},
		{"lb", "lb", "[] [] false"},
		{"sr-web-entry", routerVDU, "[] [] true"},
	} {
		c, err := p.constituent(tc.profile)
		if err != nil {
			t.Fatal(err)
		}
		b := vnfmBinding(t, p, c, tc.vdu)
		if got := fmt.Sprint(b.Anycast, " ", b.TunnelsFrom, " ", b.Forwarder); got != tc.want {
			t.Errorf("%s binding: anycast, tunnels, forwarder = %s; want %s", tc.profile, got, tc.want)
		}
	}
}

// vnfmBinding is what bringUp binds a VDU's connection point with.
func vnfmBinding(t *testing.T, p *plan, c constituent, vdu string) (b vnfm.PortBinding) {
	t.Helper()
	cidr := map[string]string{"access": "10.10.0.0/24", "service": "10.10.1.0/24"}
	cp := "data"
	if vdu == routerVDU {
		cp = routerCP
	}
	vl, err := cpLink(p, c, vdu, cp)
	if err != nil {
		t.Fatal(err)
	}
	if err := routedBinding(p, c, vdu, cp, cidr[vl], &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// staticRoute is a remote route for every service.
type staticRoute struct {
	ingress netip.Addr
	origin  string
}

func (s staticRoute) Overflow(context.Context, string) (netip.Addr, string, bool) {
	return s.ingress, s.origin, s.ingress.IsValid()
}

// TestOverflowToARemoteRoute: with a remote route known, the router's
// service overflows to its ingress through the NS's logical router port on
// the SAP's link; without one, new sessions are refused (no overflow).
func TestOverflowToARemoteRoute(t *testing.T) {
	ns, p := examplePlan(t)
	o := &Orchestrator{cfg: Config{Router: &RouterConfig{Program: "stitch-router"}}}
	if err := o.addRouters(p); err != nil {
		t.Fatal(err)
	}
	rs := routedSAPs(p)[0]
	if got := o.overflow(t.Context(), ns.ID, rs, "complex-service/web-entry"); got != nil {
		t.Errorf("overflow without inter-domain routes: %+v", got)
	}
	o.cfg.Overflow = staticRoute{netip.MustParseAddr("192.0.2.10"), "west"}
	got := o.overflow(t.Context(), ns.ID, rs, "complex-service/web-entry")
	want := &control.Instance{ID: "domain:west", Address: "192.0.2.10", MAC: macFor("router/" + ns.ID + "/access")}
	if got == nil || *got != *want {
		t.Errorf("overflow = %+v, want %+v", got, want)
	}
	o.cfg.Overflow = staticRoute{netip.MustParseAddr("2001:db8::1"), "west"}
	if got := o.overflow(t.Context(), ns.ID, rs, "complex-service/web-entry"); got != nil {
		t.Errorf("an IPv6 ingress behind an IPv4 router: %+v", got)
	}
}

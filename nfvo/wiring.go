package nfvo

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/stitchnfv/stitch/internal/store"
	sdktelemetry "github.com/stitchnfv/stitch/sdk/telemetry"
	"github.com/stitchnfv/stitch/sfc"
	"github.com/stitchnfv/stitch/sfc/ovn"
	"github.com/stitchnfv/stitch/vim"
)

// Wiring renders an NS instance's connectivity into the SDN (sfc/ovn's
// Client): switches and ports, the router, port groups with their ACLs and
// the service access points' load balancers. Render is an idempotent
// reconcile of the whole NS; Remove deletes all of it.
type Wiring interface {
	Render(ctx context.Context, nsID string, want ovn.Network) (ovn.Changes, error)
	Remove(ctx context.Context, nsID string) (ovn.Changes, error)
	// NSInstances lists the NS instances that own rows, for the sweep.
	NSInstances(ctx context.Context) ([]string, error)
}

// routerName is the NS's one logical router (see docs/chaining.md).
const routerName = "r"

// rewire renders the NS's current records into the SDN, if there is one.
// It runs before instances start (their ports exist before their
// interfaces), after each layer comes up (load balancers gain the healthy
// instances) and after instances go.
func (o *Orchestrator) rewire(ctx context.Context, nsID string, p *plan) error {
	if o.cfg.Wiring == nil {
		return nil
	}
	var vnfcs []Vnfc
	err := o.store.View(ctx, func(tx store.Tx) (err error) {
		vnfcs, err = listVnfcs(tx, nsID)
		return err
	})
	if err != nil {
		return err
	}
	nets, err := o.vnfm.Networks(ctx, nsID)
	if err != nil {
		return fmt.Errorf("listing virtual links: %w", err)
	}
	want, err := desiredWiring(nsID, p, nets, vnfcs)
	if err != nil {
		return err
	}
	if _, err := o.cfg.Wiring.Render(ctx, nsID, want); err != nil {
		return fmt.Errorf("rendering the NS into OVN: %w", err)
	}
	o.tellRouters(ctx, nsID)
	return nil
}

// unwire removes everything the NS had in the SDN.
func (o *Orchestrator) unwire(ctx context.Context, nsID string) error {
	if o.cfg.Wiring == nil {
		return nil
	}
	if _, err := o.cfg.Wiring.Remove(ctx, nsID); err != nil {
		return fmt.Errorf("removing the NS from OVN: %w", err)
	}
	return nil
}

// desiredWiring is the SDN state of an NS: one switch per virtual link
// with the sites' access ports and one port per instance connection
// point, a router on every link's gateway, a port group per constituent
// admitting only its descriptor's ports from the constituents allowed to
// call it, and a load balancer per service access point.
func desiredWiring(nsID string, p *plan, nets []vim.Network, vnfcs []Vnfc) (ovn.Network, error) {
	var want ovn.Network
	vlOf := map[string]int{} // VIM network id → index in want.Switches
	router := ovn.Router{Name: routerName}
	var probes []netip.Prefix
	for _, n := range nets {
		vl, ok := strings.CutPrefix(n.Name, shortID(nsID)+"-")
		if !ok {
			continue
		}
		cidr, err := netip.ParsePrefix(n.CIDR)
		if err != nil {
			return want, fmt.Errorf("virtual link %s: %w", vl, err)
		}
		sw := ovn.Switch{Name: vl, CIDR: cidr}
		for _, a := range n.Access {
			ip, err := netip.ParseAddr(a.IP)
			if err != nil {
				return want, fmt.Errorf("virtual link %s: access port of site %s: %w", vl, a.Site, err)
			}
			sw.Ports = append(sw.Ports, ovn.Port{Name: accessPortName(vl, a.Site), MAC: a.MAC, IPs: []netip.Addr{ip}})
			probes = append(probes, netip.PrefixFrom(ip, 32))
		}
		if n.Gateway != "" {
			gw, err := netip.ParseAddr(n.Gateway)
			if err != nil {
				return want, fmt.Errorf("virtual link %s: gateway: %w", vl, err)
			}
			router.Ports = append(router.Ports, ovn.RouterPort{
				Switch: vl, MAC: macFor("router/" + nsID + "/" + vl), CIDR: netip.PrefixFrom(gw, cidr.Bits()),
			})
		}
		want.Switches = append(want.Switches, sw)
		vlOf[n.ID] = len(want.Switches) - 1
	}
	slices.SortFunc(probes, func(a, b netip.Prefix) int { return a.Addr().Compare(b.Addr()) })

	members := map[string][]string{} // profile → port names
	healthy := map[string][]Vnfc{}
	for _, v := range vnfcs {
		c, err := p.constituent(v.Profile)
		if err != nil {
			continue // a profile the flavour no longer has: its ports go
		}
		if v.State == VnfcHealthy {
			healthy[v.Profile] = append(healthy[v.Profile], v)
		}
		for _, cpd := range slices.Sorted(maps.Keys(v.Addresses)) {
			vl, err := cpLink(p, c, v.VDU, cpd)
			if err != nil {
				return want, err
			}
			i, ok := vlOf[networkName(nsID, vl)]
			if !ok {
				return want, fmt.Errorf("instance %s: virtual link %s has no network", v.ID, vl)
			}
			sw := &want.Switches[i]
			ip, err := netip.ParseAddr(v.Addresses[cpd])
			if err != nil {
				return want, fmt.Errorf("instance %s: %w", v.ID, err)
			}
			name := instancePortName(nsID, v.ID, cpd)
			port := ovn.Port{Name: name, MAC: instanceMAC(v.ID, cpd), IPs: []netip.Addr{ip}}
			routedPort(p, c, v.VDU, cpd, &port)
			sw.Ports = append(sw.Ports, port)
			members[v.Profile] = append(members[v.Profile], name)
		}
	}
	if len(router.Ports) > 0 {
		want.Routers = []ovn.Router{router}
	}
	callers := callersOf(p)
	for _, prof := range p.df.VnfProfiles {
		want.PortGroups = append(want.PortGroups, ovn.PortGroup{
			Name:  prof.ID,
			Ports: members[prof.ID],
			Allow: allowRules(p, prof.ID, callers[prof.ID], probes),
		})
	}
	want.PortGroups = append(want.PortGroups, directReturnGroups(p, want.Switches)...)
	want.LoadBalancers = sapBalancers(p, want, healthy, routed(p, vnfcs))
	return want, nil
}

// callersOf maps each constituent to those that may open connections to
// it: the ones that depend on it and the previous hop of any chain. A
// constituent nobody calls is an entry and admits any source.
func callersOf(p *plan) map[string][]string {
	out := map[string][]string{}
	add := func(to, from string) {
		if !slices.Contains(out[to], from) {
			out[to] = append(out[to], from)
		}
	}
	for _, prof := range p.df.VnfProfiles {
		for _, dep := range prof.DependsOn {
			add(dep, prof.ID)
		}
	}
	for _, chain := range sfc.Chains(p.nsd) {
		for i := 1; i < len(chain.Hops); i++ {
			add(chain.Hops[i].Profile, chain.Hops[i-1].Profile)
		}
	}
	for _, sap := range p.nsd.Sapds {
		if sap.Entry != nil {
			// Clients arrive at an entry from anywhere.
			delete(out, sap.Entry.ConstituentBaseElementID)
		}
	}
	return out
}

// allowRules admits a constituent's declared ports from its callers (from
// anyone when it has none) and its health-check port from the sites'
// access ports, where stitch's probes come from.
func allowRules(p *plan, profile string, callers []string, probes []netip.Prefix) []ovn.Rule {
	prof, ok := p.df.Profile(profile)
	if !ok {
		return nil
	}
	vnfd := p.vnfds[prof.VnfdID]
	if vnfd == nil {
		return nil
	}
	var rules []ovn.Rule
	for _, e := range vnfd.ExtCpds {
		for _, port := range e.Ports {
			proto := port.Protocol
			if proto == "" {
				proto = "tcp"
			}
			rules = append(rules, ovn.Rule{Protocol: proto, Port: uint16(port.Port), FromGroups: slices.Clone(callers)})
		}
	}
	for _, vdu := range vnfd.VDUs {
		hc := vdu.HealthCheck
		if hc != nil && hc.Port > 0 && (hc.Type == "http" || hc.Type == "tcp") && len(probes) > 0 {
			rules = append(rules, ovn.Rule{Protocol: "tcp", Port: uint16(hc.Port), FromCIDRs: slices.Clone(probes)})
		}
	}
	if len(probes) > 0 {
		// The VNFM's gNMI subscriptions come from the sites too.
		rules = append(rules, ovn.Rule{Protocol: "tcp", Port: sdktelemetry.Port, FromCIDRs: slices.Clone(probes)})
	}
	return rules
}

// sapBalancers serves each service access point's address as a load
// balancer whose backends are the healthy instances of its entry; OVN's
// conntrack keeps a connection on its backend while backends come and go.
// A SAP that has a service router instance is the router's.
func sapBalancers(p *plan, want ovn.Network, healthy map[string][]Vnfc, routed map[string]bool) []ovn.LoadBalancer {
	var out []ovn.LoadBalancer
	for _, sap := range p.nsd.Sapds {
		if sap.Entry == nil || sap.Address == "" || sap.Port == 0 || routed[sap.ID] {
			continue
		}
		vip, err := netip.ParseAddr(sap.Address)
		if err != nil {
			continue // validated at onboarding
		}
		var backends []netip.AddrPort
		for _, ep := range endpoints(p, sap.Entry.ConstituentBaseElementID, sap.Entry.ConstituentCpdID, healthy[sap.Entry.ConstituentBaseElementID]) {
			if ap, err := netip.ParseAddrPort(ep); err == nil {
				backends = append(backends, ap)
			}
		}
		if len(backends) == 0 {
			continue
		}
		proto := sap.Protocol
		if proto == "" {
			proto = "tcp"
		}
		lb := ovn.LoadBalancer{
			Name: "sap-" + sap.ID, VIP: netip.AddrPortFrom(vip, uint16(sap.Port)), Protocol: proto, Backends: backends,
		}
		for _, sw := range want.Switches {
			lb.Switches = append(lb.Switches, sw.Name)
		}
		for _, r := range want.Routers {
			lb.Routers = append(lb.Routers, r.Name)
		}
		out = append(out, lb)
	}
	return out
}

// instancePortName is the NS-local port name of an instance's connection
// point: the instance id without the NS prefix, hashed when too long for
// an NB name.
func instancePortName(nsID, vnfcID, cpd string) string {
	name := strings.TrimPrefix(vnfcID, shortID(nsID)+"-") + "-" + cpd
	if len(name) > 40 {
		sum := sha256.Sum256([]byte(name))
		name = fmt.Sprintf("%s-%x", name[:27], sum[:6])
	}
	return name
}

func accessPortName(vl, site string) string {
	name := "site-" + site + "-" + vl
	if len(name) > 40 {
		sum := sha256.Sum256([]byte(name))
		name = fmt.Sprintf("site-%x", sum[:8])
	}
	return name
}

// instanceMAC is the MAC of an instance's connection point: derived from
// its id, so the port can be rendered before the instance exists and a
// re-created instance keeps it.
func instanceMAC(vnfcID, cpd string) string { return macFor("port/" + vnfcID + "/" + cpd) }

// macFor is a locally administered unicast MAC hashed from key.
func macFor(key string) string {
	sum := sha256.Sum256([]byte(key))
	sum[0] = sum[0]&0xfc | 0x02
	return net.HardwareAddr(sum[:6]).String()
}

// logicalPort is the NB name an instance's interface binds to.
func logicalPort(nsID, vnfcID, cpd string) (string, error) {
	return ovn.LogicalPortName(nsID, instancePortName(nsID, vnfcID, cpd))
}

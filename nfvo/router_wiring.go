package nfvo

import (
	"net/netip"
	"slices"

	"github.com/stitchnfv/stitch/sfc/ovn"
)

// routed lists the SAPs that have a service router instance: only these
// stop being OVN load balancers, so that an NS instantiated before routers
// existed (it has none) keeps its SAP served.
func routed(p *plan, vnfcs []Vnfc) map[string]bool {
	out := map[string]bool{}
	for _, rs := range routedSAPs(p) {
		if p.vnfds[routerVNFDID] != nil && slices.ContainsFunc(vnfcs, func(v Vnfc) bool { return v.Profile == rs.profile }) {
			out[rs.sap.ID] = true
		}
	}
	return out
}

// routedPort gives a router's port the SAP's address too, so that OVN
// answers ARP for it with the router's MAC and clients send it the SAP's
// traffic, and lets an entry instance's port answer from the SAP's
// address (direct server return) without OVN answering ARP for it.
func routedPort(p *plan, c constituent, vdu, cpd string, port *ovn.Port) {
	for _, rs := range routedSAPs(p) {
		if p.isRouter(c.profile.ID) && rs.profile == c.profile.ID {
			port.IPs = append(port.IPs, rs.vip.Addr())
		}
	}
	if rs, ok := p.entryOf(c, vdu, cpd); ok {
		port.ServesFrom = append(port.ServesFrom, rs.vip.Addr())
	}
}

// directReturnGroups exempt each routed SAP's traffic from conntrack on
// its switch: a port group of every port there (clients, instances, the
// router) with stateless rules for the SAP's packets both ways and the
// router's tunnels. A direct-server-return session crosses different
// ports in each direction — client to router, router to instance in a
// tunnel, instance straight back to the client — so a port's conntrack
// sees half of it and OVN drops what it thinks invalid (a SYN-ACK that
// opens nothing, an ACK after an unseen SYN-ACK). The groups filter
// nothing else (Open); the constituents' groups still do.
func directReturnGroups(p *plan, switches []ovn.Switch) []ovn.PortGroup {
	var out []ovn.PortGroup
	if p.vnfds[routerVNFDID] == nil {
		return nil
	}
	for _, rs := range routedSAPs(p) {
		router, ok := routerAddressOn(switches, rs.vl)
		if !ok {
			continue
		}
		g := ovn.PortGroup{Name: "dsr-" + rs.sap.ID, Open: true}
		for _, sw := range switches {
			if sw.Name == rs.vl {
				for _, port := range sw.Ports {
					g.Ports = append(g.Ports, port.Name)
				}
			}
		}
		vip := rs.vip.Addr()
		for _, dir := range []string{"from", "to"} {
			g.Stateless = append(g.Stateless,
				ovn.StatelessRule{Direction: dir, Protocol: rs.proto, Dst: vip, DstPort: rs.vip.Port()},
				ovn.StatelessRule{Direction: dir, Protocol: rs.proto, Src: vip, SrcPort: rs.vip.Port()},
				ovn.StatelessRule{Direction: dir, Protocol: "ipip", Src: router})
		}
		out = append(out, g)
	}
	return out
}

// routerAddressOn is the router address of a virtual link's switch.
func routerAddressOn(switches []ovn.Switch, vl string) (netip.Addr, bool) {
	for _, sw := range switches {
		if sw.Name == vl {
			a, err := routerAddress(sw.CIDR.String())
			return a, err == nil
		}
	}
	return netip.Addr{}, false
}

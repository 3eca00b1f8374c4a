package ovn

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/stitchnfv/stitch/sfc/nbdb"
)

// LoadBalancer spreads connections to VIP over Backends with OVN's
// conntrack-based load balancing (ct_lb_mark): each connection is
// committed with its backend and stays on it while backends are added or
// removed; only new connections see the new set. Changing the backends
// updates the Load_Balancer row in place.
//
// A VIP inside the subnet of one of Switches is answered for in ARP by the
// router port of this Network on that switch (options:arp_proxy on its
// peer switch port), so clients on the same switch reach it; with no
// router port on that switch nothing answers ARP for the VIP there.
type LoadBalancer struct {
	Name     string
	VIP      netip.AddrPort
	Protocol string // "tcp" or "udp"
	Backends []netip.AddrPort
	// Switches names switches of this Network whose ports' traffic to the
	// VIP is balanced (Logical_Switch.load_balancer): those of the clients.
	Switches []string
	// Routers names routers of this Network that balance traffic to the
	// VIP routed through them (Logical_Router.load_balancer); may be empty.
	Routers []string
}

// validateLoadBalancers checks load balancers against the network's
// switches and routers.
func (want Network) validateLoadBalancers() error {
	var errs []error
	bad := func(path string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	switches := map[string]bool{}
	for _, sw := range want.Switches {
		switches[sw.Name] = true
	}
	routers := map[string]bool{}
	for _, r := range want.Routers {
		routers[r.Name] = true
	}
	names := map[string]bool{}
	vips := map[string]string{}
	for i, lb := range want.LoadBalancers {
		p := fmt.Sprintf("loadBalancers[%d]", i)
		if !nameRE.MatchString(lb.Name) {
			bad(p+".name", "%q is not a valid name", lb.Name)
		} else if names[lb.Name] {
			bad(p+".name", "duplicate load balancer %q", lb.Name)
		}
		names[lb.Name] = true
		switch {
		case !lb.VIP.IsValid() || !lb.VIP.Addr().Is4() || lb.VIP.Addr().IsUnspecified():
			bad(p+".vip", "%v is not an IPv4 address and port", lb.VIP)
		case lb.VIP.Port() == 0:
			bad(p+".vip", "%v has no port", lb.VIP)
		}
		switch lb.Protocol {
		case "tcp", "udp":
		default:
			bad(p+".protocol", "%q is not tcp or udp", lb.Protocol)
		}
		if k := lb.Protocol + "/" + lb.VIP.String(); lb.VIP.IsValid() {
			if other, ok := vips[k]; ok {
				bad(p+".vip", "%s %v is already the VIP of load balancer %q", lb.Protocol, lb.VIP, other)
			} else {
				vips[k] = lb.Name
			}
		}
		if len(lb.Backends) == 0 {
			bad(p+".backends", "at least one backend is needed")
		}
		seen := map[netip.AddrPort]bool{}
		for j, b := range lb.Backends {
			bp := fmt.Sprintf("%s.backends[%d]", p, j)
			switch {
			case !b.IsValid() || !b.Addr().Is4() || b.Addr().IsUnspecified():
				bad(bp, "%v is not an IPv4 address and port", b)
			case b.Port() == 0:
				bad(bp, "%v has no port", b)
			case seen[b]:
				bad(bp, "duplicate backend %v", b)
			}
			seen[b] = true
		}
		if len(lb.Switches) == 0 && len(lb.Routers) == 0 {
			bad(p+".switches", "applies on no switch and no router")
		}
		dup := map[string]bool{}
		for j, sw := range lb.Switches {
			if !switches[sw] {
				bad(fmt.Sprintf("%s.switches[%d]", p, j), "no switch %q in this network", sw)
			} else if dup[sw] {
				bad(fmt.Sprintf("%s.switches[%d]", p, j), "duplicate switch %q", sw)
			}
			dup[sw] = true
		}
		dup = map[string]bool{}
		for j, r := range lb.Routers {
			if !routers[r] {
				bad(fmt.Sprintf("%s.routers[%d]", p, j), "no router %q in this network", r)
			} else if dup[r] {
				bad(fmt.Sprintf("%s.routers[%d]", p, j), "duplicate router %q", r)
			}
			dup[r] = true
		}
	}
	return errors.Join(errs...)
}

type wantLB struct {
	key string
	row nbdb.LoadBalancer
}

func (n namer) lbName(name string) string { return n.prefix + "-" + name }

// loadBalancers adds the load balancers of want to d: their rows, the
// references of the switches and routers they apply on, and the proxy ARP
// of VIPs lying in a switch's own subnet.
func (n namer) loadBalancers(d *desired, want Network) {
	swIdx := map[string]int{}
	for i, s := range d.switches {
		swIdx[s.key] = i
	}
	rIdx := map[string]int{}
	for i, r := range d.routers {
		rIdx[r.key] = i
	}
	cidrs := map[string]netip.Prefix{}
	for _, sw := range want.Switches {
		cidrs[sw.Name] = sw.CIDR.Masked()
	}
	// The router peer port of each switch, where proxy ARP is configured:
	// the first router (in Network order) attached to it.
	peer := map[string]int{}
	for i, p := range d.ports {
		if _, ok := p.row.Options["router-port"]; ok && p.row.Type == "router" {
			if _, seen := peer[p.switchKey]; !seen {
				peer[p.switchKey] = i
			}
		}
	}
	proxied := map[int][]string{}
	proto := map[string]nbdb.LoadBalancerProtocol{"tcp": nbdb.LoadBalancerProtocolTCP, "udp": nbdb.LoadBalancerProtocolUDP}
	for _, lb := range want.LoadBalancers {
		key := "lb/" + lb.Name
		backends := slices.Clone(lb.Backends)
		slices.SortFunc(backends, func(a, b netip.AddrPort) int { return a.Compare(b) })
		var bs []string
		for _, b := range backends {
			bs = append(bs, b.String())
		}
		pr := proto[lb.Protocol]
		d.lbs = append(d.lbs, wantLB{key: key, row: nbdb.LoadBalancer{
			Name:        n.lbName(lb.Name),
			Vips:        map[string]string{lb.VIP.String(): strings.Join(bs, ",")},
			Protocol:    &pr,
			ExternalIDs: n.tags(key),
		}})
		for _, sw := range lb.Switches {
			skey := "switch/" + sw
			i := swIdx[skey]
			d.switches[i].lbKeys = append(d.switches[i].lbKeys, key)
			if cidrs[sw].Contains(lb.VIP.Addr()) {
				if pi, ok := peer[skey]; ok {
					proxied[pi] = append(proxied[pi], lb.VIP.Addr().String())
				}
			}
		}
		for _, r := range lb.Routers {
			i := rIdx["router/"+r]
			d.routers[i].lbKeys = append(d.routers[i].lbKeys, key)
		}
	}
	for i := range d.ports {
		if d.ports[i].row.Type != "router" {
			continue
		}
		vips := proxied[i]
		if len(vips) == 0 {
			d.ports[i].clearOptions = append(d.ports[i].clearOptions, "arp_proxy")
			continue
		}
		slices.Sort(vips)
		d.ports[i].row.Options = maps.Clone(d.ports[i].row.Options)
		d.ports[i].row.Options["arp_proxy"] = strings.Join(slices.Compact(vips), " ")
	}
}

// planLBs creates and updates the load balancers (before anything refers
// to them) and records their UUIDs, named for new rows, in p.
func (c *Client) planLBs(p *plan, d desired, a actual, add func([]ovsdb.Operation, error) error) error {
	p.lbUUID = map[string]string{}
	p.ownedLB = map[string]bool{}
	p.keepLB = map[string]bool{}
	for _, r := range a.allLBs {
		p.ownedLB[r.UUID] = true
	}
	for i, w := range d.lbs {
		got := a.lbs[w.key]
		if got == nil {
			row := w.row
			row.UUID = fmt.Sprintf("lb%d", i)
			if err := add(c.ovs.Create(&row)); err != nil {
				return fmt.Errorf("create load balancer %s: %w", row.Name, err)
			}
			p.lbUUID[w.key] = row.UUID
			p.ch.Created = append(p.ch.Created, "Load_Balancer "+row.Name)
			continue
		}
		p.lbUUID[w.key], p.keepLB[got.UUID] = got.UUID, true
		if got.Name == w.row.Name && maps.Equal(got.Vips, w.row.Vips) && got.Protocol != nil &&
			*got.Protocol == *w.row.Protocol && hasAll(got.ExternalIDs, w.row.ExternalIDs) {
			continue
		}
		row := nbdb.LoadBalancer{UUID: got.UUID, Name: w.row.Name, Vips: w.row.Vips, Protocol: w.row.Protocol,
			ExternalIDs: merged(got.ExternalIDs, w.row.ExternalIDs)}
		if err := add(c.ovs.Where(&row).Update(&row, &row.Name, &row.Vips, &row.Protocol, &row.ExternalIDs)); err != nil {
			return fmt.Errorf("update load balancer %s: %w", row.Name, err)
		}
		p.ch.Updated = append(p.ch.Updated, "Load_Balancer "+row.Name)
	}
	return nil
}

// lbRefs is the mutation of a switch's or router's load_balancer column
// from have to the load balancers keys name; references to load balancers
// of other writers stay.
func (p *plan) lbRefs(have []string, keys []string) *refs {
	var want []string
	for _, k := range keys {
		want = append(want, p.lbUUID[k])
	}
	return diffRefs(have, want, p.ownedLB)
}

// deleteLBs deletes the load balancers no longer wanted; OVSDB drops the
// (weak) references switches and routers still hold to them.
func (c *Client) deleteLBs(p *plan, a actual, add func([]ovsdb.Operation, error) error) error {
	for _, r := range a.allLBs {
		if p.keepLB[r.UUID] {
			continue
		}
		if err := add(c.ovs.Where(&nbdb.LoadBalancer{UUID: r.UUID}).Delete()); err != nil {
			return fmt.Errorf("delete load balancer %s: %w", r.Name, err)
		}
		p.ch.Deleted = append(p.ch.Deleted, "Load_Balancer "+r.Name)
	}
	return nil
}

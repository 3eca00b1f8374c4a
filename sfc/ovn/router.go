package ovn

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// Router is one logical router of an NS instance: the L3 hub its virtual
// links attach to, and the place where a chain is steered through its
// network functions by reroute policies (see docs/chaining.md).
type Router struct {
	Name     string
	Ports    []RouterPort
	Policies []Policy
}

// RouterPort attaches the router to one switch of the same Network. The
// renderer creates the Logical_Router_Port and, on the switch, its peer: a
// switch port of type router.
type RouterPort struct {
	Switch string       // name of a Switch in the same Network
	MAC    string       // the router's MAC on that switch
	CIDR   netip.Prefix // the router's (gateway) address on it, e.g. 10.0.1.1/24
}

// Policy is one hop of a chain: traffic entering the router from Switch
// (if set) and matching Match is rerouted to one of Nexthops, the ingress
// addresses of the next network function's instances. OVN 23.03 picks
// among several next hops by a stateless hash (ECMP): see docs/chaining.md
// for what that means when instances come and go.
type Policy struct {
	Priority int    // 1..32767; a later hop of a chain gets a lower one
	Switch   string // optional: only traffic arriving from this switch
	Match    string // OVN match on top of the inport, e.g. "ip4 && tcp.dst == 80"
	Nexthops []netip.Addr
}

// Policy priorities: OVN's Logical_Router_Policy allows 0..32767; 0 is
// left to the implicit "everything else routes normally".
const maxPolicyPriority = 32767

// validateRouters checks routers against the network's switches.
func (want Network) validateRouters() error {
	var errs []error
	bad := func(path string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	cidrs := map[string]netip.Prefix{}
	for _, sw := range want.Switches {
		cidrs[sw.Name] = sw.CIDR
	}
	routers := map[string]bool{}
	for i, r := range want.Routers {
		p := fmt.Sprintf("routers[%d]", i)
		if !nameRE.MatchString(r.Name) {
			bad(p+".name", "%q is not a valid name", r.Name)
		} else if routers[r.Name] {
			bad(p+".name", "duplicate router %q", r.Name)
		}
		routers[r.Name] = true
		attached := map[string]netip.Prefix{}
		for j, rp := range r.Ports {
			pp := fmt.Sprintf("%s.ports[%d]", p, j)
			swCIDR, ok := cidrs[rp.Switch]
			switch {
			case !ok:
				bad(pp+".switch", "no switch %q in this network", rp.Switch)
			case attached[rp.Switch].IsValid():
				bad(pp+".switch", "router already has a port on %q", rp.Switch)
			}
			if _, err := net.ParseMAC(rp.MAC); err != nil {
				bad(pp+".mac", "%v", err)
			}
			switch {
			case !rp.CIDR.IsValid():
				bad(pp+".cidr", "missing or invalid")
			case swCIDR.IsValid() && (!swCIDR.Contains(rp.CIDR.Addr()) || rp.CIDR.Masked() != swCIDR.Masked()):
				bad(pp+".cidr", "%v is not an address of the switch's %v", rp.CIDR, swCIDR)
			}
			if ok {
				attached[rp.Switch] = rp.CIDR
			}
		}
		seen := map[string]bool{}
		for j, pol := range r.Policies {
			pp := fmt.Sprintf("%s.policies[%d]", p, j)
			if pol.Priority < 1 || pol.Priority > maxPolicyPriority {
				bad(pp+".priority", "%d is outside 1..%d", pol.Priority, maxPolicyPriority)
			}
			if pol.Switch != "" && !attached[pol.Switch].IsValid() {
				bad(pp+".switch", "router has no port on %q", pol.Switch)
			}
			if pol.Match == "" {
				bad(pp+".match", "empty; use \"ip4\" to match all IPv4 traffic")
			}
			// OVN keys policies by priority and match: two equal ones
			// would be ambiguous.
			if k := fmt.Sprint(pol.Priority, pol.Switch, pol.Match); seen[k] {
				bad(pp, "duplicate of an earlier policy (same priority, switch and match)")
			} else {
				seen[k] = true
			}
			if len(pol.Nexthops) == 0 {
				bad(pp+".nexthops", "at least one next hop is needed")
			}
			for k, nh := range pol.Nexthops {
				if !onLink(attached, nh) {
					bad(fmt.Sprintf("%s.nexthops[%d]", pp, k), "%v is on none of the router's ports, so OVN could not reach it", nh)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// onLink reports whether addr is in the subnet of one of the router ports.
func onLink(ports map[string]netip.Prefix, addr netip.Addr) bool {
	for _, p := range ports {
		if p.IsValid() && p.Masked().Contains(addr) {
			return true
		}
	}
	return false
}

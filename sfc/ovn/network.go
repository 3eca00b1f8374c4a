package ovn

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
)

// Network is the desired OVN state of one NS instance. Names are local to
// the NS; the renderer prefixes them to keep them unique in NB.
type Network struct {
	Switches      []Switch
	PortGroups    []PortGroup
	Routers       []Router
	LoadBalancers []LoadBalancer
}

// Switch is one virtual link: an L2 segment with its subnet.
type Switch struct {
	Name  string
	CIDR  netip.Prefix
	Ports []Port
}

// Port is a connection point on a switch. Port security pins it to its own
// MAC and IPs so an instance cannot spoof another's addresses.
type Port struct {
	Name string
	MAC  string
	IPs  []netip.Addr
	// Forwards marks the ingress of a routed network function (a chain
	// hop): it receives and sends packets of other hosts' addresses, so
	// its port security pins only the MAC. OVN would otherwise drop what
	// the router reroutes to it (destination not its IP) and what it
	// forwards on (source not its IP).
	Forwards bool
	// ServesFrom lists addresses the port may send from besides its own:
	// a service access point's VIP, for an instance that answers the
	// service router's clients directly (direct server return). They go
	// into port security only, not into the port's addresses, so OVN never
	// answers ARP for them on the port's behalf.
	ServesFrom []netip.Addr
}

// PortGroup gathers the ports of one microservice. IP traffic to them is
// dropped unless one of Allow admits it (the descriptor's exposed ports).
type PortGroup struct {
	Name  string
	Ports []string // names of Ports in the same Network
	Allow []Rule
	// Stateless admits packets without conntrack (OVN's allow-stateless):
	// the two directions of a direct-server-return session cross
	// different ports — client to service router, router to instance in a
	// tunnel, instance straight back to the client — so no port's
	// conntrack sees a whole connection, and OVN drops the half it sees as
	// invalid (a SYN-ACK that opens nothing, an ACK after an unseen
	// SYN-ACK).
	Stateless []StatelessRule
	// Open groups get no default deny: a group that only exempts some
	// traffic of its ports from conntrack (Stateless) and leaves the rest
	// to the groups that filter them.
	Open bool
}

// StatelessRule matches IPv4 packets to (Direction "to") or from ("from")
// a group's ports by protocol, and optionally by source and destination
// address and port. Protocol "ipip" is IPv4-in-IPv4 (protocol 4), the
// service router's tunnels.
type StatelessRule struct {
	Direction string
	Protocol  string // "tcp", "udp" or "ipip"
	Src, Dst  netip.Addr
	// SrcPort and DstPort (tcp and udp only; 0: any).
	SrcPort, DstPort uint16
}

// Rule admits IPv4 traffic of one protocol to one destination port, from
// any source unless FromGroups or FromCIDRs restrict it: then only packets
// whose source is an address of one of the groups' ports or lies in one of
// the prefixes are admitted.
type Rule struct {
	Protocol string // "tcp", "udp" or "icmp"
	Port     uint16 // destination port; 0 admits any port; must be 0 for icmp
	// FromGroups names PortGroups of the same Network; their ports'
	// addresses (OVN's address set <group>_ip4, kept up to date by northd
	// as ports join and leave) are admitted sources.
	FromGroups []string
	// FromCIDRs are admitted IPv4 source prefixes (a single address is a
	// /32), for example the orchestrator's probes.
	FromCIDRs []netip.Prefix
}

// ACL priorities: allow rules outrank the group's default drop. Both sit in
// the middle of OVN's 0..32767 range so operators can override either way.
const (
	allowPriority = 2000
	denyPriority  = 1000
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$`)

// validate checks want before anything is written, naming the field path,
// so bad input changes nothing in NB.
func (want Network) validate() error {
	var errs []error
	bad := func(path string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	switches := map[string]bool{}
	ports := map[string]bool{}
	for i, sw := range want.Switches {
		p := fmt.Sprintf("switches[%d]", i)
		if !nameRE.MatchString(sw.Name) {
			bad(p+".name", "%q is not a valid name (%s)", sw.Name, nameRE)
		} else if switches[sw.Name] {
			bad(p+".name", "duplicate switch %q", sw.Name)
		}
		switches[sw.Name] = true
		if !sw.CIDR.IsValid() {
			bad(p+".cidr", "missing or invalid")
		}
		for j, port := range sw.Ports {
			pp := fmt.Sprintf("%s.ports[%d]", p, j)
			if !nameRE.MatchString(port.Name) {
				bad(pp+".name", "%q is not a valid name", port.Name)
			} else if ports[port.Name] {
				bad(pp+".name", "duplicate port %q (port names are unique per NS)", port.Name)
			}
			ports[port.Name] = true
			if _, err := net.ParseMAC(port.MAC); err != nil {
				bad(pp+".mac", "%v", err)
			}
			if len(port.IPs) == 0 {
				bad(pp+".ips", "at least one address is needed for port security")
			}
			for k, ip := range port.IPs {
				if sw.CIDR.IsValid() && !sw.CIDR.Contains(ip) {
					bad(fmt.Sprintf("%s.ips[%d]", pp, k), "%v is outside the switch's %v", ip, sw.CIDR)
				}
			}
			for k, ip := range port.ServesFrom {
				if !ip.IsValid() {
					bad(fmt.Sprintf("%s.servesFrom[%d]", pp, k), "not an address")
				}
			}
		}
	}
	groupNames := map[string]bool{}
	for _, g := range want.PortGroups {
		groupNames[g.Name] = true
	}
	groups := map[string]bool{}
	for i, g := range want.PortGroups {
		p := fmt.Sprintf("portGroups[%d]", i)
		if !nameRE.MatchString(g.Name) {
			bad(p+".name", "%q is not a valid name", g.Name)
		} else if n := groupIdent(g.Name); groups[n] {
			bad(p+".name", "%q collides with another group once made an OVN identifier (%s)", g.Name, n)
		} else {
			groups[n] = true
		}
		for j, name := range g.Ports {
			if !ports[name] {
				bad(fmt.Sprintf("%s.ports[%d]", p, j), "no port %q in this network", name)
			}
		}
		for j, r := range g.Allow {
			rp := fmt.Sprintf("%s.allow[%d]", p, j)
			switch r.Protocol {
			case "tcp", "udp":
			case "icmp":
				if r.Port != 0 {
					bad(rp+".port", "icmp has no ports")
				}
			default:
				bad(rp+".protocol", "%q is not tcp, udp or icmp", r.Protocol)
			}
			for k, from := range r.FromGroups {
				if !groupNames[from] {
					bad(fmt.Sprintf("%s.fromGroups[%d]", rp, k), "no port group %q in this network", from)
				}
			}
			for k, from := range r.FromCIDRs {
				if !from.IsValid() || !from.Addr().Is4() {
					bad(fmt.Sprintf("%s.fromCIDRs[%d]", rp, k), "%v is not an IPv4 prefix", from)
				}
			}
		}
		for j, r := range g.Stateless {
			if err := r.validate(); err != nil {
				bad(fmt.Sprintf("%s.stateless[%d]", p, j), "%v", err)
			}
		}
	}
	errs = append(errs, want.validateRouters(), want.validateLoadBalancers())
	return errors.Join(errs...)
}

func (r StatelessRule) validate() error {
	var errs []error
	if r.Direction != "to" && r.Direction != "from" {
		errs = append(errs, fmt.Errorf("direction %q is not to or from", r.Direction))
	}
	switch r.Protocol {
	case "tcp", "udp":
	case "ipip":
		if r.SrcPort != 0 || r.DstPort != 0 {
			errs = append(errs, errors.New("ipip has no ports"))
		}
	default:
		errs = append(errs, fmt.Errorf("protocol %q is not tcp, udp or ipip", r.Protocol))
	}
	for _, a := range []netip.Addr{r.Src, r.Dst} {
		if a.IsValid() && !a.Is4() {
			errs = append(errs, fmt.Errorf("%v is not an IPv4 address", a))
		}
	}
	return errors.Join(errs...)
}

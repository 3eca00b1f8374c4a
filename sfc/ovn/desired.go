package ovn

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stitchnfv/stitch/sfc/nbdb"
)

// desired is a Network turned into NB rows, each with its identity (the
// stitch.object tag) so that it can be matched against rows already in NB.
type desired struct {
	switches []wantSwitch
	ports    []wantPort
	groups   []wantGroup
	routers  []wantRouter
	lbs      []wantLB
}

type wantSwitch struct {
	key    string
	row    nbdb.LogicalSwitch
	lbKeys []string // load balancers applied on the switch
}

type wantPort struct {
	key, switchKey string
	row            nbdb.LogicalSwitchPort
	// clearOptions are options the renderer manages that must be absent
	// (arp_proxy once no VIP needs it).
	clearOptions []string
}

type wantGroup struct {
	key      string
	row      nbdb.PortGroup
	portKeys []string
	acls     []wantACL
}

type wantACL struct {
	key string
	row nbdb.ACL
}

func (n namer) desired(want Network) desired {
	var d desired
	for _, sw := range want.Switches {
		key := "switch/" + sw.Name
		d.switches = append(d.switches, wantSwitch{key: key, row: nbdb.LogicalSwitch{
			Name: n.switchName(sw.Name),
			// subnet only records the CIDR: ports carry static addresses,
			// so OVN's dynamic allocation from it never kicks in.
			OtherConfig: map[string]string{"subnet": sw.CIDR.Masked().String()},
			ExternalIDs: n.tags(key),
		}})
		for _, p := range sw.Ports {
			addrs := []string{strings.ToLower(p.MAC)}
			for _, ip := range p.IPs {
				addrs = append(addrs, ip.String())
			}
			a := strings.Join(addrs, " ")
			sec := a
			for _, ip := range p.ServesFrom {
				sec += " " + ip.String()
			}
			if p.Forwards {
				sec = addrs[0]
			}
			pkey := "port/" + p.Name
			d.ports = append(d.ports, wantPort{key: pkey, switchKey: key, row: nbdb.LogicalSwitchPort{
				Name:         n.portName(p.Name),
				Addresses:    []string{a},
				PortSecurity: []string{sec},
				ExternalIDs:  n.tags(pkey),
			}})
		}
	}
	for _, g := range want.PortGroups {
		key := "group/" + g.Name
		pg := n.groupName(g.Name)
		w := wantGroup{key: key, row: nbdb.PortGroup{Name: pg, ExternalIDs: n.tags(key)}}
		for _, p := range g.Ports {
			w.portKeys = append(w.portKeys, "port/"+p)
		}
		// Repeated rules are dropped: two identical ACLs would share one
		// identity and the second would never match anything anyway.
		seen := map[string]bool{}
		for _, r := range g.Allow {
			m := r.match(n, pg)
			if seen[m] {
				continue
			}
			seen[m] = true
			w.acls = append(w.acls, n.acl(pg, allowPriority, m, nbdb.ACLActionAllowRelated, r.String()))
		}
		for _, r := range g.Stateless {
			m := r.match(pg)
			if seen[m] {
				continue
			}
			seen[m] = true
			w.acls = append(w.acls, n.aclDir(pg, r.direction(), allowPriority, m, nbdb.ACLActionAllowStateless, r.String()))
		}
		// Default deny covers all IP (v4 and v6) but not ARP/ND, which the
		// ports need to resolve each other before any allowed flow.
		if !g.Open {
			w.acls = append(w.acls, n.acl(pg, denyPriority, "outport == @"+pg+" && ip", nbdb.ACLActionDrop, "deny"))
		}
		d.groups = append(d.groups, w)
	}
	n.routers(&d, want)
	n.loadBalancers(&d, want)
	return d
}

// acl builds a to-lport ACL.
func (n namer) acl(pg string, prio int, match string, action nbdb.ACLAction, what string) wantACL {
	return n.aclDir(pg, nbdb.ACLDirectionToLport, prio, match, action, what)
}

// aclDir builds an ACL. Its identity is its content: an ACL whose match
// changes is a different ACL, replaced rather than updated.
func (n namer) aclDir(pg string, dir nbdb.ACLDirection, prio int, match string, action nbdb.ACLAction, what string) wantACL {
	key := fmt.Sprintf("acl/%s/%s/%d/%s/%s", pg, dir, prio, action, match)
	name := pg + "-" + what
	if len(name) > 63 { // the schema caps ACL names at 63 characters
		name = name[:63]
	}
	return wantACL{key: key, row: nbdb.ACL{
		Name:        &name,
		Direction:   dir,
		Priority:    prio,
		Match:       match,
		Action:      action,
		ExternalIDs: n.tags(key),
	}}
}

func (r StatelessRule) direction() nbdb.ACLDirection {
	if r.Direction == "from" {
		return nbdb.ACLDirectionFromLport
	}
	return nbdb.ACLDirectionToLport
}

func (r StatelessRule) match(pg string) string {
	m := "outport == @" + pg + " && ip4"
	if r.Direction == "from" {
		m = "inport == @" + pg + " && ip4"
	}
	if r.Src.IsValid() {
		m += " && ip4.src == " + r.Src.String()
	}
	if r.Dst.IsValid() {
		m += " && ip4.dst == " + r.Dst.String()
	}
	if r.Protocol == "ipip" {
		return m + " && ip.proto == 4"
	}
	m += " && " + r.Protocol
	if r.SrcPort != 0 {
		m += fmt.Sprintf(" && %s.src == %d", r.Protocol, r.SrcPort)
	}
	if r.DstPort != 0 {
		m += fmt.Sprintf(" && %s.dst == %d", r.Protocol, r.DstPort)
	}
	return m
}

// String names the rule in its ACL's name, e.g. "stateless-from-tcp8080".
func (r StatelessRule) String() string {
	return fmt.Sprintf("stateless-%s-%s%d", r.Direction, r.Protocol, r.SrcPort+r.DstPort)
}

func (r Rule) match(n namer, pg string) string {
	m := "outport == @" + pg + " && ip4"
	if src := r.sources(n); src != "" {
		m += " && ip4.src == " + src
	}
	switch {
	case r.Protocol == "icmp":
		return m + " && icmp4"
	case r.Port == 0:
		return m + " && " + r.Protocol
	default:
		return fmt.Sprintf("%s && %s.dst == %d", m, r.Protocol, r.Port)
	}
}

// sources is the right-hand side of the rule's ip4.src term, or "" for
// any source: the groups' address sets ($<pg>_ip4, which northd derives
// from each port group) and the prefixes, sorted and deduplicated so that
// the ACL's identity does not depend on their order.
func (r Rule) sources(n namer) string {
	var srcs []string
	for _, g := range r.FromGroups {
		srcs = append(srcs, "$"+n.groupName(g)+"_ip4")
	}
	slices.Sort(srcs)
	var cidrs []string
	for _, p := range r.FromCIDRs {
		cidrs = append(cidrs, p.Masked().String())
	}
	slices.Sort(cidrs)
	srcs = slices.Compact(append(srcs, cidrs...))
	switch len(srcs) {
	case 0:
		return ""
	case 1:
		return srcs[0]
	default:
		return "{" + strings.Join(srcs, ", ") + "}"
	}
}

// String names the rule in its ACL's name, e.g. "tcp8080" or
// "tcp8080-from-lb+10.9.0.0/24".
func (r Rule) String() string {
	s := r.Protocol
	if r.Port != 0 {
		s = fmt.Sprintf("%s%d", r.Protocol, r.Port)
	}
	var from []string
	from = append(from, r.FromGroups...)
	for _, p := range r.FromCIDRs {
		from = append(from, p.Masked().String())
	}
	if len(from) > 0 {
		s += "-from-" + strings.Join(from, "+")
	}
	return s
}

// hasAll reports whether got carries every key of want with want's value;
// extra keys (another tool's annotations) are left alone.
func hasAll(got, want map[string]string) bool {
	for k, v := range want {
		if gv, ok := got[k]; !ok || gv != v {
			return false
		}
	}
	return true
}

// merged is got with want's keys written over it, so that updating our keys
// keeps another tool's.
func merged(got, want map[string]string) map[string]string {
	out := maps.Clone(got)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, want)
	return out
}

// hasAny reports whether m has one of keys.
func hasAny(m map[string]string, keys []string) bool {
	for _, k := range keys {
		if _, ok := m[k]; ok {
			return true
		}
	}
	return false
}

// without is m minus keys.
func without(m map[string]string, keys []string) map[string]string {
	for _, k := range keys {
		delete(m, k)
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

package lab

import (
	"fmt"
	"net/netip"
	"regexp"
)

var (
	// Lab and node names become namespace and file names.
	labNameRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)
	prefixRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{0,32}$`)
	nodeNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	// Site names as stitch's local VIM accepts them.
	siteNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)
)

// validate checks the resolved topology's consistency; resolve has
// already reported what did not parse.
func validate(t *Topology, raw *rawFile, p *problems) {
	if !labNameRE.MatchString(t.Name) {
		p.add("name", "%q: a lab needs a name of 1-64 characters [A-Za-z0-9_-]", t.Name)
	}
	if !prefixRE.MatchString(t.Prefix) {
		p.add("prefix", "%q: a prefix is up to 32 characters [A-Za-z0-9_-]", t.Prefix)
	}
	if len(t.Nodes) == 0 {
		p.add("topology.nodes", "a lab needs at least one node")
	}
	mgmt := map[netip.Addr]string{}
	chassis := map[string]string{} // site → node carrying its chassis
	for _, n := range t.Nodes {
		path := "topology.nodes." + n.Name
		if !nodeNameRE.MatchString(n.Name) {
			p.add(path, "node name must be 1-64 characters [A-Za-z0-9_.-] starting with a letter or digit")
		}
		if n.Kind == "" {
			p.add(path+".kind", "no kind: set kind on the node, its group, or topology.defaults")
		}
		for i, c := range n.Exec {
			if c == "" {
				p.add(fmt.Sprintf("%s.exec[%d]", path, i), "empty command")
			}
		}
		for k := range n.Env {
			if !validEnvName(k) {
				p.add(path+".env."+k, "not a valid environment variable name")
			}
		}
		if s, ok := n.Labels[LabelSite]; ok && !siteNameRE.MatchString(s) {
			p.add(path+".labels."+LabelSite, "%q: a site name is 1-32 characters [A-Za-z0-9_-]", s)
		}
		if n.EncapIP.IsValid() {
			switch other, dup := chassis[n.Site]; {
			case n.Site == "":
				p.add(path+".labels."+LabelEncapIP, "a chassis node needs a %s label too", LabelSite)
			case dup:
				p.add(path+".labels."+LabelEncapIP, "site %s already has its chassis on node %s", n.Site, other)
			default:
				chassis[n.Site] = n.Name
			}
		}
		if n.MgmtIPv4.IsValid() {
			if t.MgmtIPv4Subnet.IsValid() && !t.MgmtIPv4Subnet.Contains(n.MgmtIPv4) {
				p.add(path+".mgmt-ipv4", "%v is outside mgmt.ipv4-subnet %v", n.MgmtIPv4, t.MgmtIPv4Subnet)
			}
			if other, dup := mgmt[n.MgmtIPv4]; dup {
				p.add(path+".mgmt-ipv4", "%v is also node %s's address", n.MgmtIPv4, other)
			}
			mgmt[n.MgmtIPv4] = n.Name
		}
	}
	for name := range raw.Topology.Groups {
		if !nodeNameRE.MatchString(name) {
			p.add("topology.groups."+name, "bad group name")
		}
	}
	validateLinks(t, p)
}

func validateLinks(t *Topology, p *problems) {
	used := map[string]string{} // "node:iface" -> path of first use
	for _, l := range t.Links {
		path := fmt.Sprintf("topology.links[%d]", l.Index)
		if l.A.Node == l.B.Node && l.A.Interface == l.B.Interface {
			p.add(path, "link connects %s to itself", l.A)
			continue
		}
		for j, ep := range []Endpoint{l.A, l.B} {
			epath := fmt.Sprintf("%s.endpoints[%d]", path, j)
			if first, dup := used[ep.String()]; dup {
				p.add(epath, "interface %s is already used by %s", ep, first)
				continue
			}
			used[ep.String()] = epath
		}
		if l.A.Node == l.B.Node && l.A.Interface == l.B.Interface {
			p.add(path, "link connects %s to itself", l.A)
		}
		if l.MTU != 0 && (l.MTU < 68 || l.MTU > 65535) {
			p.add(path+".mtu", "%d is outside 68..65535", l.MTU)
		}
	}
}

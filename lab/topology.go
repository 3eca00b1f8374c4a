package lab

import (
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
)

// Kinds this package realises with network namespaces. Other containerlab
// kinds parse but Deploy refuses them.
const (
	KindLinux  = "linux"
	KindBridge = "bridge"
)

// LabelSite maps a node to a stitch site (execution zone).
const LabelSite = "stitch.site"

// LabelEncapIP marks the node that is its site's OVN chassis: the value is
// the node's address whose link carries the site's tunnels (a WAN link).
const LabelEncapIP = "stitch.encap-ip"

// Topology is a parsed, resolved and validated containerlab topology: each
// node carries its effective settings after inheritance.
type Topology struct {
	Name string
	// Prefix is containerlab's name prefix ("clab" when the file has none).
	Prefix string
	// File is the absolute path ParseFile read (empty from Parse); Env the
	// variables it was parsed with. Handing a lab to containerlab needs both.
	File string
	Env  map[string]string
	// MgmtIPv4Subnet is mgmt.ipv4-subnet, if given.
	MgmtIPv4Subnet netip.Prefix
	// Nodes sorted by name.
	Nodes []Node
	Links []Link
}

// Node is one node with its effective settings.
type Node struct {
	Name   string
	Kind   string
	Group  string
	Type   string
	Image  string
	Cmd    string
	Exec   []string
	Env    map[string]string
	Binds  []string // sorted by container path
	Labels map[string]string
	// MgmtIPv4 is the zero Addr when not set.
	MgmtIPv4 netip.Addr
	// Site is the value of the stitch.site label, if any.
	Site string
	// EncapIP is the stitch.encap-ip label: set on the node that is its
	// site's chassis.
	EncapIP netip.Addr
}

// Endpoint is one end of a link.
type Endpoint struct {
	Node      string
	Interface string
	MAC       net.HardwareAddr // nil: kernel chooses
}

func (e Endpoint) String() string { return e.Node + ":" + e.Interface }

// Link is a point-to-point veth link.
type Link struct {
	A, B   Endpoint
	MTU    int // 0: kernel default
	Labels map[string]string
	Vars   map[string]any
	// WAN holds the stitch.wan.* impairments of the link.
	WAN Impairment
	// Index is the link's position in topology.links, for messages.
	Index int
}

// Node returns the node of that name.
func (t *Topology) Node(name string) (Node, bool) {
	i, ok := slices.BinarySearchFunc(t.Nodes, name, func(n Node, s string) int { return strings.Compare(n.Name, s) })
	if !ok {
		return Node{}, false
	}
	return t.Nodes[i], true
}

// ParseFile reads and parses a topology file; see Parse.
func ParseFile(path string, env map[string]string) (*Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read topology: %w", err)
	}
	t, err := Parse(data, env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t.File, t.Env = absFile(path), maps.Clone(env)
	return t, nil
}

// Parse substitutes env into the topology text, decodes it, applies
// containerlab's inheritance rules and validates the result. All problems
// are reported together in a *ValidationError matching ErrInvalid.
func Parse(data []byte, env map[string]string) (*Topology, error) {
	text, err := substituteEnv(string(data), env)
	if err != nil {
		return nil, &ValidationError{Sentinel: ErrInvalid, Problems: []Problem{{Path: "(file)", Msg: err.Error()}}}
	}
	raw, dups, err := decodeRaw([]byte(text))
	if err != nil {
		return nil, &ValidationError{Sentinel: ErrInvalid, Problems: []Problem{{Path: "(file)", Msg: err.Error()}}}
	}
	p := &problems{list: dups}
	t := resolve(raw, p)
	validate(t, raw, p)
	if err := p.err(ErrInvalid); err != nil {
		return nil, err
	}
	return t, nil
}

// resolve applies inheritance. Problems that only show while resolving
// (a link endpoint that does not parse, a bad address) go to p.
func resolve(raw *rawFile, p *problems) *Topology {
	t := &Topology{Name: raw.Name, Prefix: "clab"}
	if raw.Prefix != nil {
		t.Prefix = *raw.Prefix
	}
	if raw.Mgmt != nil && raw.Mgmt.IPv4Subnet != "" {
		pfx, err := netip.ParsePrefix(raw.Mgmt.IPv4Subnet)
		if err != nil || !pfx.Addr().Is4() {
			p.add("mgmt.ipv4-subnet", "%q is not an IPv4 prefix", raw.Mgmt.IPv4Subnet)
		} else {
			t.MgmtIPv4Subnet = pfx.Masked()
		}
	}
	top := raw.Topology
	defaults := orEmpty(top.Defaults)
	for _, name := range slices.Sorted(maps.Keys(top.Nodes)) {
		t.Nodes = append(t.Nodes, resolveNode(name, orEmpty(top.Nodes[name]), defaults, top, p))
	}
	known := func(name string) bool { _, ok := top.Nodes[name]; return ok }
	for i, rl := range top.Links {
		if l, ok := resolveLink(i, orEmptyLink(rl), known, p); ok {
			t.Links = append(t.Links, l)
		}
	}
	return t
}

func orEmpty(n *rawNode) *rawNode {
	if n == nil {
		return &rawNode{}
	}
	return n
}

func orEmptyLink(l *rawLink) *rawLink {
	if l == nil {
		return &rawLink{}
	}
	return l
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func resolveNode(name string, nd, defaults *rawNode, top rawTopology, p *problems) Node {
	path := "topology.nodes." + name
	group := firstNonEmpty(nd.Group, defaults.Group)
	grp := orEmpty(top.Groups[group])
	kind := firstNonEmpty(nd.Kind, grp.Kind, defaults.Kind)
	knd := orEmpty(top.Kinds[kind])
	// Precedence lowest first.
	levels := []*rawNode{defaults, knd, grp, nd}
	n := Node{Name: name, Kind: kind, Group: group}
	for _, l := range levels {
		n.Type = firstNonEmpty(l.Type, n.Type)
		n.Image = firstNonEmpty(l.Image, n.Image)
		n.Cmd = firstNonEmpty(l.Cmd, n.Cmd)
		if len(l.Exec) > 0 {
			n.Exec = slices.Clone(l.Exec)
		}
		n.Env = mergeMaps(n.Env, l.Env)
		n.Labels = mergeMaps(n.Labels, l.Labels)
	}
	n.Binds = mergeBinds(path, levels, p)
	if nd.MgmtIPv4 != "" {
		a, err := netip.ParseAddr(nd.MgmtIPv4)
		if err != nil || !a.Is4() {
			p.add(path+".mgmt-ipv4", "%q is not an IPv4 address", nd.MgmtIPv4)
		} else {
			n.MgmtIPv4 = a
		}
	}
	n.Site = n.Labels[LabelSite]
	if v, ok := n.Labels[LabelEncapIP]; ok {
		a, err := netip.ParseAddr(v)
		if err != nil || !a.Is4() {
			p.add(path+".labels."+LabelEncapIP, "%q is not an IPv4 address", v)
		} else {
			n.EncapIP = a
		}
	}
	return n
}

func mergeMaps(dst, src map[string]string) map[string]string {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]string, len(src))
	}
	maps.Copy(dst, src)
	return dst
}

// mergeBinds merges binds "src:dst[:opts]" by destination path, the more
// specific level replacing the less specific one, as containerlab does.
func mergeBinds(path string, levels []*rawNode, p *problems) []string {
	byDst := map[string]string{}
	for _, l := range levels {
		for i, b := range l.Binds {
			parts := strings.Split(b, ":")
			if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
				p.add(fmt.Sprintf("%s.binds[%d]", path, i), "%q is not src:dst[:options]", b)
				continue
			}
			byDst[parts[1]] = b
		}
	}
	if len(byDst) == 0 {
		return nil
	}
	out := make([]string, 0, len(byDst))
	for _, dst := range slices.Sorted(maps.Keys(byDst)) {
		out = append(out, byDst[dst])
	}
	return out
}

func resolveLink(index int, rl *rawLink, known func(string) bool, p *problems) (Link, bool) {
	path := fmt.Sprintf("topology.links[%d]", index)
	if rl.Type != "" && rl.Type != "veth" {
		p.add(path+".type", "link type %q is not supported (only veth)", rl.Type)
		return Link{}, false
	}
	if len(rl.Endpoints) != 2 {
		p.add(path+".endpoints", "a link needs exactly 2 endpoints, got %d", len(rl.Endpoints))
		return Link{}, false
	}
	l := Link{MTU: rl.MTU, Labels: rl.Labels, Vars: rl.Vars, Index: index}
	ok := true
	for i, re := range rl.Endpoints {
		ep, good := resolveEndpoint(fmt.Sprintf("%s.endpoints[%d]", path, i), re, known, p)
		ok = ok && good
		if i == 0 {
			l.A = ep
		} else {
			l.B = ep
		}
	}
	wan, bad := parseImpairment(path, rl.Labels, rl.Vars, p)
	if bad {
		ok = false
	}
	l.WAN = wan
	return l, ok
}

func resolveEndpoint(path string, re rawEndpoint, known func(string) bool, p *problems) (Endpoint, bool) {
	node, iface := re.Node, re.Interface
	if re.IsShort {
		var found bool
		node, iface, found = strings.Cut(re.Short, ":")
		if !found {
			p.add(path, "%q is not node:interface", re.Short)
			return Endpoint{}, false
		}
	}
	ep := Endpoint{Node: node, Interface: iface}
	ok := true
	switch {
	case node == "":
		p.add(path, "endpoint has no node")
		ok = false
	case !known(node):
		p.add(path, "unknown node %q", node)
		ok = false
	}
	if iface == "" {
		// Kernel name rules are checked by the runner: other kinds use
		// names such as ethernet-1/1.
		p.add(path, "endpoint has no interface")
		ok = false
	}
	if re.MAC != "" {
		mac, err := net.ParseMAC(re.MAC)
		if err != nil || len(mac) != 6 {
			p.add(path+".mac", "%q is not an Ethernet MAC address", re.MAC)
			ok = false
		} else {
			ep.MAC = mac
		}
	}
	return ep, ok
}

// checkIfName applies the kernel's rules for interface names.
func checkIfName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("empty interface name")
	case len(s) > 15:
		return fmt.Errorf("longer than 15 bytes")
	case s == "." || s == "..":
		return fmt.Errorf("reserved name")
	case strings.ContainsAny(s, "/: \t\n"):
		return fmt.Errorf("contains '/', ':' or white space")
	}
	return nil
}

// SiteNode is the node a stitch site runs on, for the local VIM's OVN
// fabric: the site's namespace and tunnel address.
type SiteNode struct {
	Site    string
	Node    string
	NetNS   string
	EncapIP netip.Addr
}

// SiteNodes lists, in node order, the nodes that carry a site's chassis
// (labelled with both stitch.site and stitch.encap-ip).
func (t *Topology) SiteNodes() []SiteNode {
	var out []SiteNode
	for _, n := range t.Nodes {
		if n.Site != "" && n.EncapIP.IsValid() {
			out = append(out, SiteNode{Site: n.Site, Node: n.Name, NetNS: NetNSName(t, n.Name), EncapIP: n.EncapIP})
		}
	}
	return out
}

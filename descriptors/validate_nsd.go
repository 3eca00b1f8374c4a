package descriptors

import (
	"fmt"
	"net/netip"
	"strings"
)

// ValidateNSD checks an NSD and its references into the VNFDs it uses,
// given by id. A nil or incomplete map leaves those references unresolved,
// and they are reported as unknown VNFDs. The VNFDs themselves are not
// validated here (see ValidateVNFD). All problems are reported at once as a
// *ValidationError (errors.Is(err, ErrInvalid)).
func ValidateNSD(n *NSD, vnfds map[string]*VNFD) error {
	c := &checker{}
	c.nsd("nsd", n, vnfds)
	return c.err()
}

// nsdScope is what checks inside a deployment flavour need from the NSD.
type nsdScope struct {
	catalog map[string]*VNFD
	listed  map[string]bool // nsd.vnfd-id
	links   map[string]*NsVirtualLinkDesc
}

// constituent is a vnf-profile with what it resolves to; vnfd and flavour
// are nil when they cannot be resolved (already reported).
type constituent struct {
	profile *VnfProfile
	index   int
	vnfd    *VNFD
	flavour *VNFDeploymentFlavour
}

// nsFlavour is one checked NSD deployment flavour.
type nsFlavour struct {
	df           *NSDeploymentFlavour
	constituents map[string]*constituent
}

func (c *checker) nsd(p string, n *NSD, vnfds map[string]*VNFD) {
	if n == nil {
		c.add(p, "missing")
		return
	}
	c.id(p+".id", n.ID)
	scope := &nsdScope{catalog: vnfds, listed: map[string]bool{}}
	if len(n.VnfdIDs) == 0 {
		c.add(p+".vnfd-id", "at least one VNFD is required")
	}
	for i, id := range n.VnfdIDs {
		ip := fmt.Sprintf("%s.vnfd-id[%d]", p, i)
		switch {
		case !c.id(ip, id):
		case scope.listed[id]:
			c.add(ip, "duplicate entry %q", id)
		case vnfds[id] == nil:
			c.add(ip, "unknown VNFD %q", id)
		}
		scope.listed[id] = true
	}

	scope.links = index(c, p+".virtual-link-desc", n.VirtualLinkDescs, func(l *NsVirtualLinkDesc) string { return l.ID })
	subnets := map[string]netip.Prefix{}
	for i, l := range n.VirtualLinkDescs {
		if prefix, ok := c.cidr(fmt.Sprintf("%s.virtual-link-desc[%d].cidr", p, i), l.CIDR); ok && scope.links[l.ID] == &n.VirtualLinkDescs[i] {
			subnets[l.ID] = prefix
		}
	}

	if len(n.DFs) == 0 {
		c.add(p+".df", "at least one df is required")
	}
	index(c, p+".df", n.DFs, func(d *NSDeploymentFlavour) string { return d.ID })
	flavours := make([]nsFlavour, len(n.DFs))
	for i := range n.DFs {
		flavours[i] = c.nsFlavour(fmt.Sprintf("%s.df[%d]", p, i), &n.DFs[i], scope)
	}

	index(c, p+".sapd", n.Sapds, func(s *Sapd) string { return s.ID })
	for i, s := range n.Sapds {
		c.sapd(fmt.Sprintf("%s.sapd[%d]", p, i), s, scope, subnets, flavours)
	}

	index(c, p+".vnffgd", n.Vnffgds, func(g *Vnffgd) string { return g.ID })
	for i, g := range n.Vnffgds {
		gp := fmt.Sprintf("%s.vnffgd[%d]", p, i)
		if len(g.Nfpd) == 0 {
			c.add(gp+".nfpd", "at least one nfpd is required")
		}
		index(c, gp+".nfpd", g.Nfpd, func(f *Nfpd) string { return f.ID })
		for j, nfp := range g.Nfpd {
			c.nfpd(fmt.Sprintf("%s.nfpd[%d]", gp, j), nfp, flavours)
		}
	}
}

func (c *checker) sapd(p string, s Sapd, scope *nsdScope, subnets map[string]netip.Prefix, flavours []nsFlavour) {
	optRef(c, p+".virtual-link-desc", s.VirtualLinkDesc, scope.links, "virtual-link-desc")
	if s.Address != "" {
		addr, err := netip.ParseAddr(s.Address)
		switch {
		case err != nil || addr.Zone() != "":
			c.add(p+".address", "%q is not an IP address", s.Address)
		case s.VirtualLinkDesc != "":
			if subnet, ok := subnets[s.VirtualLinkDesc]; ok && !subnet.Contains(addr) {
				c.add(p+".address", "%s is outside %s, the cidr of virtual-link-desc %q", addr, subnet, s.VirtualLinkDesc)
			}
		}
	}
	c.port(p+".port", s.Port)
	c.protocol(p+".protocol", s.Protocol, "tcp", "udp")
	if s.Entry != nil {
		c.constituentCpd(p+".entry", *s.Entry, flavours)
	}
}

// constituentCpd checks a reference to a constituent's ext-cpd made at NSD
// level, where it must hold in every deployment flavour.
func (c *checker) constituentCpd(p string, cc ConstituentCpd, flavours []nsFlavour) {
	for _, f := range flavours {
		if con := c.inFlavour(p+".constituent-base-element-id", cc.ConstituentBaseElementID, f, len(flavours)); con != nil {
			c.extCpdOf(p+".constituent-cpd-id", cc.ConstituentCpdID, con)
		}
	}
}

// inFlavour resolves a vnf-profile id in one flavour.
func (c *checker) inFlavour(path, profileID string, f nsFlavour, flavours int) *constituent {
	if profileID == "" {
		c.add(path, "required")
		return nil
	}
	con := f.constituents[profileID]
	if con == nil {
		where := ""
		if flavours > 1 {
			where = fmt.Sprintf(" in df %q", f.df.ID)
		}
		c.add(path, "unknown vnf-profile %q%s", profileID, where)
	}
	return con
}

// extCpdOf checks that a constituent's VNFD has an ext-cpd.
func (c *checker) extCpdOf(path, cpdID string, con *constituent) {
	switch {
	case cpdID == "":
		c.add(path, "required")
	case con.vnfd == nil:
	default:
		if _, ok := con.vnfd.ExtCpd(cpdID); !ok {
			c.add(path, "VNFD %q has no ext-cpd %q", con.vnfd.ID, cpdID)
		}
	}
}

func (c *checker) nfpd(p string, nfp Nfpd, flavours []nsFlavour) {
	c.matchAttributes(p+".match-attributes", nfp.MatchAttributes)
	if len(nfp.Positions) == 0 {
		c.add(p+".position", "at least one position is required")
	}
	orders := map[int]int{}
	for i, pos := range nfp.Positions {
		pp := fmt.Sprintf("%s.position[%d]", p, i)
		if pos.Order < 1 {
			c.add(pp+".order", "must be positive, got %d", pos.Order)
		} else if j, dup := orders[pos.Order]; dup {
			c.add(pp+".order", "duplicate order %d (also position[%d])", pos.Order, j)
		} else {
			orders[pos.Order] = i
		}
		for _, f := range flavours {
			con := c.inFlavour(pp+".vnf-profile-id", pos.VnfProfileID, f, len(flavours))
			if con == nil {
				continue
			}
			c.extCpdOf(pp+".ingress-cpd-id", pos.IngressCpdID, con)
			if pos.EgressCpdID != "" {
				c.extCpdOf(pp+".egress-cpd-id", pos.EgressCpdID, con)
			}
		}
	}
}

func (c *checker) matchAttributes(p string, m MatchAttributes) {
	c.protocol(p+".ip-proto", m.IPProto, "tcp", "udp", "icmp")
	c.addressOrCIDR(p+".source-ip-address", m.SourceIPAddress)
	c.addressOrCIDR(p+".destination-ip-address", m.DestinationIPAddress)
	c.port(p+".destination-port", m.DestinationPort)
	if m.DestinationPort != 0 && m.IPProto == "icmp" {
		c.add(p+".destination-port", "icmp has no ports")
	}
}

// addressOrCIDR checks a classifier address: a subnet, or one address.
func (c *checker) addressOrCIDR(path, s string) {
	if s == "" {
		return
	}
	if strings.Contains(s, "/") {
		c.cidr(path, s)
		return
	}
	if addr, err := netip.ParseAddr(s); err != nil || addr.Zone() != "" {
		c.add(path, "%q is not an IP address or CIDR", s)
	}
}

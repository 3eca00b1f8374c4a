package nfvo

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/stitchnfv/stitch/descriptors"
	"github.com/stitchnfv/stitch/servicerouter/control"
	"github.com/stitchnfv/stitch/vnfm"
)

// RouterConfig puts stitch's service router (cmd/stitch-router) in front of
// every service access point that has an entry, an address and a port: the
// SAP's address is then the router's, which sends each new session to an
// entry instance with a free session slot through an IP-in-IP tunnel, and
// the instance answers the client directly. The router runs as an
// instance of the NS like any other — placed, addressed, health-checked,
// healed and removed with it — in a constituent stitch adds to the plan,
// "sr-<sap-id>", deployed before every other.
type RouterConfig struct {
	// Program is the router's executable (looked up like VDU programs).
	Program string
	// Mode is how the router attaches: native (XDP in the driver),
	// generic (XDP on the kernel's generic path) or userspace.
	Mode string
	// MemoryMB bounds the router's cgroup; its BPF maps are charged to it.
	MemoryMB int
}

// The service router's constituent: one VDU with one connection point on
// the SAP's virtual link.
const (
	routerVNFDID  = "stitch-service-router"
	routerVDU     = "router"
	routerCP      = "data"
	routerProfile = "sr-"
)

func routerProfileID(sapID string) string { return routerProfile + sapID }

// routedSAP is a service access point served by a service router.
type routedSAP struct {
	sap     descriptors.Sapd
	vip     netip.AddrPort
	proto   string // tcp or udp
	profile string // the router's vnf-profile
	vl      string // the virtual link of the entry's connection point
}

// routedSAPs lists the SAPs a router serves: an entry whose connection
// point is on a virtual link, an address and a TCP or UDP port.
func routedSAPs(p *plan) []routedSAP {
	var out []routedSAP
	for _, sap := range p.nsd.Sapds {
		if sap.Entry == nil || sap.Port <= 0 || sap.Port > 65535 {
			continue
		}
		addr, err := netip.ParseAddr(sap.Address)
		if err != nil || !addr.Is4() {
			continue
		}
		proto := strings.ToLower(sap.Protocol)
		if proto == "" {
			proto = "tcp"
		}
		if proto != "tcp" && proto != "udp" {
			continue
		}
		vl, ok := p.df.LinkOf(sap.Entry.ConstituentBaseElementID, sap.Entry.ConstituentCpdID)
		if !ok {
			continue
		}
		out = append(out, routedSAP{sap: sap, vip: netip.AddrPortFrom(addr, uint16(sap.Port)), proto: proto,
			profile: routerProfileID(sap.ID), vl: vl})
	}
	return out
}

// addRouters adds a router constituent per routed SAP to the plan, in a
// layer of its own before every other: the entry instances are told its
// address when they start.
func (o *Orchestrator) addRouters(p *plan) error {
	if o.cfg.Router == nil {
		return nil
	}
	saps := routedSAPs(p)
	if len(saps) == 0 {
		return nil
	}
	vnfd := routerVNFD(*o.cfg.Router)
	var layer []string
	for _, rs := range saps {
		for _, id := range []string{rs.profile, "dsr-" + rs.sap.ID} {
			if _, taken := p.df.Profile(id); taken {
				return fmt.Errorf("%w: vnf-profile id %s is reserved for the service router of SAP %s", ErrInvalid, id, rs.sap.ID)
			}
		}
		entry, ok := p.df.Profile(rs.sap.Entry.ConstituentBaseElementID)
		if !ok {
			continue // validated at onboarding
		}
		var vlp string
		for _, vlc := range entry.VirtualLinkConnectivity {
			for _, cc := range vlc.ConstituentCpdIDs {
				if cc.ConstituentBaseElementID == entry.ID && cc.ConstituentCpdID == rs.sap.Entry.ConstituentCpdID {
					vlp = vlc.VirtualLinkProfileID
				}
			}
		}
		p.df.VnfProfiles = append(p.df.VnfProfiles, descriptors.VnfProfile{
			ID: rs.profile, VnfdID: vnfd.ID, FlavourID: "default", MinNumberOfInstances: 1, MaxNumberOfInstances: 1,
			Sites: slices.Clone(entry.Sites),
			VirtualLinkConnectivity: []descriptors.VirtualLinkConnectivity{{
				VirtualLinkProfileID: vlp,
				ConstituentCpdIDs:    []descriptors.ConstituentCpd{{ConstituentBaseElementID: rs.profile, ConstituentCpdID: routerCP}},
			}},
		})
		layer = append(layer, rs.profile)
	}
	p.vnfds[vnfd.ID] = vnfd
	p.layers = append([][]string{layer}, p.layers...)
	return nil
}

// routerVNFD describes cmd/stitch-router as a VNF.
func routerVNFD(cfg RouterConfig) *descriptors.VNFD {
	mem := cmp.Or(cfg.MemoryMB, 256)
	return &descriptors.VNFD{
		ID: routerVNFDID, Version: "1", Kind: descriptors.KindVNF,
		Description: "stitch's anycast service router (XDP)",
		VDUs: []descriptors.VDU{{
			ID: routerVDU, VirtualComputeDesc: "router",
			IntCpds: []descriptors.IntCpd{{ID: routerCP}},
			Program: &descriptors.Program{Path: cfg.Program, Args: []string{
				"--address", "${STITCH_ADDR_DATA}", "--mode", cmp.Or(cfg.Mode, "native"),
				"--control-port", strconv.Itoa(control.DefaultPort),
			}},
			HealthCheck: &descriptors.HealthCheck{Type: "http", Cpd: routerCP, Port: control.DefaultPort, Path: "/healthz"},
		}},
		VirtualComputeDescs: []descriptors.VirtualComputeDesc{{ID: "router",
			VirtualCPU: descriptors.VirtualCPU{NumVirtualCPU: 1}, VirtualMemory: descriptors.VirtualMemory{Size: float64(mem) / 1024}}},
		ExtCpds: []descriptors.ExtCpd{{ID: routerCP, IntCpd: &descriptors.ExtCpdIntCpd{VduID: routerVDU, Cpd: routerCP}}},
		DFs: []descriptors.VNFDeploymentFlavour{{ID: "default",
			VduProfiles: []descriptors.VduProfile{{ID: routerVDU, MinNumberOfInstances: 1, MaxNumberOfInstances: 1}}}},
	}
}

// routerAddress is a router's address on its virtual link: the highest
// host address, so that it stays the same when the router is replaced
// (the entry instances admit tunnels from it only) and stays clear of the
// addresses allocated from the bottom.
func routerAddress(cidr string) (netip.Addr, error) {
	pfx, err := netip.ParsePrefix(cidr)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%w: CIDR %q: %w", ErrInvalid, cidr, err)
	}
	if !pfx.Addr().Is4() || pfx.Bits() > 28 {
		return netip.Addr{}, fmt.Errorf("%w: virtual link %s is too small for a service router", ErrInvalid, cidr)
	}
	b := pfx.Masked().Addr().As4()
	host := uint32(1)<<(32-pfx.Bits()) - 2 // the last address before broadcast
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) + host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), nil
}

// isRouter reports whether a vnf-profile is a service router's.
func (p *plan) isRouter(profile string) bool {
	return slices.ContainsFunc(routedSAPs(p), func(rs routedSAP) bool { return rs.profile == profile }) &&
		p.vnfds[routerVNFDID] != nil
}

// entryOf returns the routed SAP whose entry is the given connection point
// of a constituent's VDU, if any.
func (p *plan) entryOf(c constituent, vduID, cpd string) (routedSAP, bool) {
	if p.vnfds[routerVNFDID] == nil {
		return routedSAP{}, false
	}
	for _, rs := range routedSAPs(p) {
		if rs.sap.Entry.ConstituentBaseElementID != c.profile.ID {
			continue
		}
		for _, ext := range c.vnfd.ExtCpds {
			if ext.ID == rs.sap.Entry.ConstituentCpdID && ext.IntCpd != nil && ext.IntCpd.VduID == vduID && ext.IntCpd.Cpd == cpd {
				return rs, true
			}
		}
	}
	return routedSAP{}, false
}

// addressFor allocates a connection point's address on a link of cidr: a
// router's fixed one, else the lowest free one that is no router's.
func (o *Orchestrator) addressFor(p *plan, c constituent, cidr string, used map[string]bool) (string, error) {
	if p.isRouter(c.profile.ID) {
		a, err := routerAddress(cidr)
		return a.String(), err
	}
	if p.vnfds[routerVNFDID] != nil {
		if a, err := routerAddress(cidr); err == nil {
			used[a.String()] = true // whether or not a router is on this link
		}
	}
	return allocateIP(cidr, used)
}

// routedBinding completes the binding of a connection point that a router
// serves (an entry's: the SAP's address, tunnels from its router) or that
// is a router's (it sends its tunnels back out of its interface).
func routedBinding(p *plan, c constituent, vduID, cpd, cidr string, b *vnfm.PortBinding) error {
	if p.isRouter(c.profile.ID) {
		b.Forwarder = true
		return nil
	}
	rs, ok := p.entryOf(c, vduID, cpd)
	if !ok {
		return nil
	}
	ra, err := routerAddress(cidr)
	if err != nil {
		return err
	}
	b.Anycast, b.TunnelsFrom = []string{rs.vip.Addr().String()}, []string{ra.String()}
	return nil
}

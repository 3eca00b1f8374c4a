package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/vim"
)

// The tunnel network between sites: an underlay the driver builds, or a
// lab node's WAN link.

// ensureUnderlay creates (or repairs) the underlay namespace, its bridge
// and a veth to each site the driver builds the underlay for.
func (d *Driver) ensureUnderlay(sites []*site) error {
	name := underlayNetNS(d.prefix)
	h, err := namedns.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		if err := namedns.Delete(name); err != nil {
			return err
		}
		h, err = namedns.Create(name)
	}
	if err != nil {
		return fmt.Errorf("underlay: %w", err)
	}
	defer h.Close()
	if err := namedns.Do(h, configureNetNS); err != nil {
		return fmt.Errorf("underlay: %w", err)
	}
	nl, err := netlink.NewHandleAt(h, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("underlay: netlink: %w", err)
	}
	defer nl.Close()
	if err := linkUp(nl, "lo"); err != nil {
		return err
	}
	brName := ifName(d.prefix, 'u', "underlay-bridge", 0)
	br, err := nl.LinkByName(brName)
	if isLinkNotFound(err) {
		la := netlink.NewLinkAttrs()
		la.Name = brName
		la.HardwareAddr = macFor("underlay-bridge\x00" + d.prefix)
		if err = nl.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err == nil {
			br, err = nl.LinkByName(brName)
		}
	}
	if err == nil {
		err = nl.LinkSetUp(br)
	}
	if err != nil {
		return fmt.Errorf("underlay bridge %s: %w", brName, err)
	}
	for _, s := range sites {
		_, err1 := s.nl.LinkByName(s.ulIface)
		_, err2 := nl.LinkByName(s.ulIface)
		if err1 != nil || err2 != nil {
			if err := deleteLink(s.nl, s.ulIface); err != nil {
				return err
			}
			if err := deleteLink(nl, s.ulIface); err != nil {
				return err
			}
			la := netlink.NewLinkAttrs()
			la.Name = s.ulIface
			la.Alias = "stitch:-:underlay/" + s.name
			veth := &netlink.Veth{LinkAttrs: la, PeerName: s.ulIface, PeerNamespace: netlink.NsFd(h), PeerTxQLen: -1}
			if err := s.nl.LinkAdd(veth); err != nil {
				return fmt.Errorf("site %s: underlay link %s: %w", s.name, s.ulIface, err)
			}
		}
		peer, err := nl.LinkByName(s.ulIface)
		if err == nil {
			err = nl.LinkSetMasterByIndex(peer, br.Attrs().Index)
		}
		if err == nil {
			err = nl.LinkSetUp(peer)
		}
		if err == nil {
			err = linkUp(s.nl, s.ulIface)
		}
		if err != nil {
			return fmt.Errorf("site %s: underlay link %s: %w", s.name, s.ulIface, err)
		}
	}
	return nil
}

// ensurePhyBridge gives a site of the driver's underlay its tunnel
// endpoint: br-phy (netdev) with the site's underlay address, its port
// the underlay veth.
func (d *Driver) ensurePhyBridge(ctx context.Context, s *site) error {
	_, err := s.chassis.VSCtl(ctx, "--may-exist", "add-br", "br-phy", "--",
		"set", "Bridge", "br-phy", "datapath_type=netdev",
		fmt.Sprintf("other_config:hwaddr=%q", phyMAC(d.prefix, s.name).String()), "--",
		"--may-exist", "add-port", "br-phy", s.ulIface)
	if err != nil {
		return err
	}
	br, err := s.nl.LinkByName("br-phy")
	if err != nil {
		return fmt.Errorf("br-phy: %w", err)
	}
	addr := ipNet(s.encapIP, d.ovn.Underlay.Bits())
	if err := s.nl.AddrReplace(br, &netlink.Addr{IPNet: addr}); err != nil {
		return fmt.Errorf("br-phy address %s: %w", addr, err)
	}
	if err := s.nl.LinkSetUp(br); err != nil {
		return fmt.Errorf("br-phy up: %w", err)
	}
	s.phyMAC, s.phy = phyMAC(d.prefix, s.name), d.ovn.Underlay.Masked()
	return nil
}

// wanRecord remembers what ensureWANBridge moved off a lab node's WAN
// link, to put back at Destroy (and onto a recreated br-phy after a
// restart of ovs-vswitchd).
type wanRecord struct {
	Iface  string     `json:"iface"`
	Addrs  []string   `json:"addrs"` // CIDR form
	Routes []wanRoute `json:"routes,omitempty"`
}

type wanRoute struct {
	Dst string `json:"dst"` // CIDR; "" = default
	Gw  string `json:"gw"`
}

func (d *Driver) wanPath(site string) string { return filepath.Join(d.chassisDir(site), "wan.json") }

// ensureWANBridge turns the link of a lab node holding EncapIP into br-phy's
// port: br-phy takes the link's MAC, IPv4 addresses and gatewayed routes.
func (d *Driver) ensureWANBridge(ctx context.Context, s *site) error {
	var rec wanRecord
	recs, _ := readJSON[wanRecord](d.wanPath(s.name))
	if recs != nil {
		rec = *recs
	} else {
		link, err := linkWithAddr(s.nl, s.encapIP)
		if err != nil {
			return err
		}
		if link.Attrs().Name == "br-phy" {
			return fmt.Errorf("EncapIP %s is on br-phy but no record says which link carries it", s.encapIP)
		}
		rec.Iface = link.Attrs().Name
		addrs, err := s.nl.AddrList(link, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			rec.Addrs = append(rec.Addrs, a.IPNet.String())
		}
		routes, err := s.nl.RouteList(link, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		for _, r := range routes {
			if r.Gw == nil {
				continue
			}
			wr := wanRoute{Gw: r.Gw.String()}
			if r.Dst != nil {
				wr.Dst = r.Dst.String()
			}
			rec.Routes = append(rec.Routes, wr)
		}
		if err := writeJSON(d.wanPath(s.name), &rec); err != nil {
			return err
		}
	}
	link, err := s.nl.LinkByName(rec.Iface)
	if err != nil {
		return fmt.Errorf("WAN link %s: %w", rec.Iface, err)
	}
	_, err = s.chassis.VSCtl(ctx, "--may-exist", "add-br", "br-phy", "--",
		"set", "Bridge", "br-phy", "datapath_type=netdev",
		fmt.Sprintf("other_config:hwaddr=%q", link.Attrs().HardwareAddr.String()), "--",
		"--may-exist", "add-port", "br-phy", rec.Iface)
	if err != nil {
		return err
	}
	s.phyMAC = link.Attrs().HardwareAddr
	for _, a := range rec.Addrs {
		if p, err := netip.ParsePrefix(a); err == nil && p.Contains(s.encapIP) {
			s.phy = p.Masked()
		}
	}
	br, err := s.nl.LinkByName("br-phy")
	if err != nil {
		return fmt.Errorf("br-phy: %w", err)
	}
	for _, a := range rec.Addrs {
		addr, err := netlink.ParseAddr(a)
		if err != nil {
			return err
		}
		if err := s.nl.AddrDel(link, addr); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("move %s off %s: %w", a, rec.Iface, err)
		}
		if err := s.nl.AddrReplace(br, &netlink.Addr{IPNet: addr.IPNet}); err != nil {
			return fmt.Errorf("address %s on br-phy: %w", a, err)
		}
	}
	if err := s.nl.LinkSetUp(br); err != nil {
		return err
	}
	if err := s.nl.LinkSetUp(link); err != nil {
		return err
	}
	return replaceRoutes(s.nl, br, rec.Routes)
}

func replaceRoutes(h *netlink.Handle, link netlink.Link, routes []wanRoute) error {
	for _, r := range routes {
		rt := &netlink.Route{LinkIndex: link.Attrs().Index, Gw: net.ParseIP(r.Gw)}
		if r.Dst != "" {
			_, dst, err := net.ParseCIDR(r.Dst)
			if err != nil {
				return err
			}
			rt.Dst = dst
		}
		if err := h.RouteReplace(rt); err != nil {
			return fmt.Errorf("route %s via %s: %w", r.Dst, r.Gw, err)
		}
	}
	return nil
}

// restoreWAN puts a lab node's WAN addresses and routes back on its link
// (br-phy is gone with the chassis).
func (d *Driver) restoreWAN(s *site) error {
	rec, err := readJSON[wanRecord](d.wanPath(s.name))
	if err != nil || rec == nil {
		return err
	}
	h, err := netlink.NewHandleAt(s.ns, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(rec.Iface)
	if err != nil {
		return fmt.Errorf("WAN link %s: %w", rec.Iface, err)
	}
	for _, a := range rec.Addrs {
		addr, err := netlink.ParseAddr(a)
		if err != nil {
			return err
		}
		if err := h.AddrReplace(link, &netlink.Addr{IPNet: addr.IPNet}); err != nil {
			return fmt.Errorf("restore %s on %s: %w", a, rec.Iface, err)
		}
	}
	return replaceRoutes(h, link, rec.Routes)
}

// readJSON decodes path into a new T; nil without error when it is missing.
func readJSON[T any](path string) (*T, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return v, nil
}

func linkWithAddr(h *netlink.Handle, ip netip.Addr) (netlink.Link, error) {
	addrs, err := h.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		if a.IP.Equal(net.IP(ip.AsSlice())) {
			return h.LinkByIndex(a.LinkIndex)
		}
	}
	return nil, fmt.Errorf("%w: no link holds EncapIP %s", vim.ErrInvalid, ip)
}

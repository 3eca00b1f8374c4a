package local

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unsafe"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/internal/ovnhost"
	"github.com/stitchnfv/stitch/vim"
)

// The OVN fabric (Config.OVN): every site is an OVN chassis — an
// ovsdb-server, ovs-vswitchd with the userspace (netdev) datapath running
// inside the site namespace, and ovn-controller, all with their run
// directory under StateDir/ovn/<site> — and every interface the driver
// creates (instance ports, the sites' access ports) is bound to a logical
// port of the orchestrator's OVN topology (external_ids:iface-id) instead
// of being bridged. The orchestrator writes the logical switches, ports and
// routers; the VIM only plugs interfaces in.
//
// Tunnels: the userspace datapath sends Geneve packets only out of an OVS
// bridge of its own, so each chassis's tunnel endpoint is an address on a
// netdev bridge br-phy whose port is the site's underlay link. Without
// SiteConfig.NetNS the driver builds the underlay itself: a namespace
// <p>-u with a Linux bridge and a veth to each site. With NetNS (a lab's
// node) the link holding EncapIP becomes br-phy's port and its addresses
// move to br-phy (put back by Destroy).

// OVNConfig selects the OVN fabric.
type OVNConfig struct {
	// SBRemote is the OVN southbound database ovn-controller connects to,
	// e.g. "unix:/path/sb.sock" or "tcp:127.0.0.1:6642" (dialled from the
	// host namespace).
	SBRemote string
	// Underlay is the tunnel network between the sites the driver builds
	// the underlay for (those without NetNS): site i gets host address
	// i+1. Default 100.64.0.0/24.
	Underlay netip.Prefix
}

// ovnMTU leaves room for Geneve's encapsulation on a 1500-byte underlay;
// with the full 1500 large transfers across chassis stall.
const ovnMTU = 1400

// defaultUnderlay is OVNConfig.Underlay's default.
var defaultUnderlay = netip.MustParsePrefix("100.64.0.0/24")

// The names of what ovs-vswitchd creates in a site namespace.
var ovsLinks = []string{"br-int", "br-phy", "ovs-netdev"}

func underlayNetNS(prefix string) string { return prefix + "-u" }

// chassisName is a site's chassis name in SB (system-id).
func chassisName(prefix, site string) string { return prefix + "-" + site }

// chassisTag marks a site's chassis processes (ovnhost.EnvTag).
func chassisTag(prefix, site string) string { return chassisTagPrefix(prefix) + site }

func chassisTagPrefix(prefix string) string { return "vim/local:" + prefix + ":" }

func (d *Driver) chassisDir(site string) string { return filepath.Join(d.store.dir, "ovn", site) }

// macFor derives a fixed, locally administered unicast MAC from key.
func macFor(key string) net.HardwareAddr {
	h := sha256.Sum256([]byte(key))
	return net.HardwareAddr{0x02, h[0], h[1], h[2], h[3], h[4]}
}

// portMAC is the MAC of an instance's port: the same for a recreated
// instance of the same name.
func portMAC(inst string, idx int) net.HardwareAddr {
	return macFor(fmt.Sprintf("port-mac\x00%s\x00%d", inst, idx))
}

func accessMAC(prefix, network, site string) net.HardwareAddr {
	return macFor("access-mac\x00" + prefix + "\x00" + network + "\x00" + site)
}

func phyMAC(prefix, site string) net.HardwareAddr {
	return macFor("phy-mac\x00" + prefix + "\x00" + site)
}

// validateOVN checks the OVN part of a configuration.
func validateOVN(cfg *Config) error {
	if cfg.OVN == nil {
		for _, sc := range cfg.Sites {
			if sc.NetNS != "" || sc.EncapIP != "" {
				return fmt.Errorf("%w: site %q: NetNS and EncapIP need the OVN fabric (Config.OVN)", vim.ErrInvalid, sc.Name)
			}
		}
		return nil
	}
	o := cfg.OVN
	if o.SBRemote == "" {
		return fmt.Errorf("%w: OVN fabric without SBRemote", vim.ErrInvalid)
	}
	if !o.Underlay.IsValid() {
		o.Underlay = defaultUnderlay
	}
	if !o.Underlay.Addr().Is4() || o.Underlay.Bits() > 30 {
		return fmt.Errorf("%w: OVN underlay %s: need an IPv4 prefix of /30 or shorter", vim.ErrInvalid, o.Underlay)
	}
	o.Underlay = o.Underlay.Masked()
	if hosts := uint64(1)<<(32-o.Underlay.Bits()) - 2; uint64(len(cfg.Sites)) > hosts {
		return fmt.Errorf("%w: OVN underlay %s is too small for %d sites", vim.ErrInvalid, o.Underlay, len(cfg.Sites))
	}
	for _, sc := range cfg.Sites {
		switch {
		case sc.NetNS == "" && sc.EncapIP != "":
			return fmt.Errorf("%w: site %q: EncapIP without NetNS (the driver numbers the underlay it builds)", vim.ErrInvalid, sc.Name)
		case sc.NetNS != "":
			if ip, err := netip.ParseAddr(sc.EncapIP); err != nil || !ip.Is4() {
				return fmt.Errorf("%w: site %q: EncapIP %q: need the IPv4 address of NetNS %s carrying the tunnels",
					vim.ErrInvalid, sc.Name, sc.EncapIP, sc.NetNS)
			}
		}
	}
	return nil
}

// setupOVN brings the fabric up (or adopts it): the underlay the driver
// builds, a chassis per site, each site's tunnel endpoint on br-phy.
func (d *Driver) setupOVN(ctx context.Context) error {
	var built []*site
	for _, s := range d.siteList {
		if !s.external {
			built = append(built, s)
		}
	}
	if len(built) > 0 {
		if err := d.ensureUnderlay(built); err != nil {
			return err
		}
	}
	for _, s := range d.siteList {
		if err := namedns.Do(s.ns, isolateARP); err != nil {
			return fmt.Errorf("site %s: %w", s.name, err)
		}
		ch, err := ovnhost.EnsureChassis(ctx, ovnhost.ChassisConfig{
			Name:     chassisName(d.prefix, s.name),
			NetNS:    s.nsName,
			Dir:      d.chassisDir(s.name),
			SBRemote: d.ovn.SBRemote,
			EncapIP:  s.encapIP.String(),
			Tag:      chassisTag(d.prefix, s.name),
		})
		if err != nil {
			return fmt.Errorf("site %s: %w", s.name, err)
		}
		s.chassis = ch
		if s.external {
			err = d.ensureWANBridge(ctx, s)
		} else {
			err = d.ensurePhyBridge(ctx, s)
		}
		if err != nil {
			return fmt.Errorf("site %s: %w", s.name, err)
		}
	}
	// OVS resolves a tunnel peer's MAC itself and drops what it sends until
	// the reply is in; telling each chassis the MACs of the peers on its
	// underlay subnet up front spares the first connection between sites a
	// SYN retransmission (1 s). Peers behind a router are left to ARP.
	for _, s := range d.siteList {
		for _, p := range d.siteList {
			if p == s || !s.phy.Contains(p.encapIP) || p.phyMAC == nil {
				continue
			}
			if _, err := s.chassis.AppCtl(ctx, "tnl/arp/set", "br-phy", p.encapIP.String(), p.phyMAC.String()); err != nil {
				d.log.Debug("tunnel neighbour", "site", s.name, "peer", p.name, "err", err)
			}
		}
	}
	return nil
}

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

// stopOVN stops every site's chassis and removes the underlay (Destroy).
func (d *Driver) stopOVN(ctx context.Context) error {
	var errs []error
	for _, s := range d.siteList {
		errs = append(errs, ovnhost.StopChassis(ctx, d.chassisDir(s.name), chassisTag(d.prefix, s.name)))
		if s.external && s.ns.IsOpen() {
			errs = append(errs, d.restoreWAN(s))
		}
	}
	errs = append(errs, deleteLinksIn(underlayNetNS(d.prefix)), namedns.Delete(underlayNetNS(d.prefix)))
	if err := os.RemoveAll(filepath.Join(d.store.dir, "ovn")); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// bindPort plugs iface (in the site namespace) into br-int as logical port
// lp; internal creates it as an OVS internal port (a tap device) with mac.
func (s *site) bindPort(ctx context.Context, iface, lp string, internal bool, mac net.HardwareAddr) error {
	args := []string{"--may-exist", "add-port", "br-int", iface, "--",
		"set", "Interface", iface, "external_ids:iface-id=" + lp}
	if internal {
		args = append(args, "type=internal", fmt.Sprintf("mac=%q", mac.String()), fmt.Sprintf("mtu_request=%d", ovnMTU))
	}
	_, err := s.chassis.VSCtl(ctx, args...)
	return err
}

// unbindPort removes iface's port from br-int. It does not wait for
// ovs-vswitchd (the device goes anyway), and a failure is only logged: a
// stale row costs nothing but a log line of ovs-vswitchd, and a chassis
// that is down must not keep an instance or network from going.
func (d *Driver) unbindPort(s *site, iface string) {
	if s.chassis == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.chassis.VSCtl(ctx, "--no-wait", "--if-exists", "del-port", "br-int", iface); err != nil {
		d.log.Warn("cannot remove port from br-int", "site", s.name, "iface", iface, "err", err)
	}
}

// ensureAccessPorts gives each site of an OVN network its access port: an
// OVS internal port on br-int bound to the site's logical port, holding
// the site's address on the network.
func (d *Driver) ensureAccessPorts(ctx context.Context, rec networkRecord, prefix netip.Prefix) error {
	for _, a := range rec.Access {
		s := d.sites[a.Site]
		mac, err := net.ParseMAC(a.MAC)
		if err != nil {
			return err
		}
		if err := s.bindPort(ctx, a.Iface, a.LogicalPort, true, mac); err != nil {
			return fmt.Errorf("site %s: access port %s: %w", a.Site, a.Iface, err)
		}
		link, err := s.nl.LinkByName(a.Iface)
		if err != nil {
			return fmt.Errorf("site %s: access port %s: %w", a.Site, a.Iface, err)
		}
		if link.Attrs().MTU != ovnMTU {
			if err := s.nl.LinkSetMTU(link, ovnMTU); err != nil {
				return fmt.Errorf("site %s: access port %s MTU: %w", a.Site, a.Iface, err)
			}
		}
		ip := netip.MustParseAddr(a.IP)
		if err := s.nl.AddrReplace(link, &netlink.Addr{IPNet: ipNet(ip, prefix.Bits())}); err != nil {
			return fmt.Errorf("site %s: address %s on %s: %w", a.Site, ip, a.Iface, err)
		}
		if err := s.nl.LinkSetUp(link); err != nil {
			return fmt.Errorf("site %s: %s up: %w", a.Site, a.Iface, err)
		}
		if err := txChecksumOff(s.ns, a.Iface); err != nil {
			return fmt.Errorf("site %s: %s: %w", a.Site, a.Iface, err)
		}
		if err := namedns.Do(s.ns, func() error { return quickARPRetry(a.Iface) }); err != nil {
			return fmt.Errorf("site %s: %w", a.Site, err)
		}
	}
	return nil
}

func (d *Driver) removeAccessPorts(rec networkRecord) error {
	var errs []error
	for _, a := range rec.Access {
		if s := d.sites[a.Site]; s != nil && s.nl != nil {
			d.unbindPort(s, a.Iface)
			errs = append(errs, deleteLink(s.nl, a.Iface))
		}
	}
	return errors.Join(errs...)
}

// txChecksumOff turns transmit checksum offload off on a link (what
// `ethtool -K IF tx off` does): the userspace datapath forwards what a veth
// or tap leaves to offload with the checksum unfilled, and TCP breaks.
func txChecksumOff(ns netns.NsHandle, iface string) error {
	const (
		siocethtool     = 0x8946
		ethtoolSTxCsum  = 0x17
		ethtoolSetValue = 0
	)
	type ethtoolValue struct{ cmd, data uint32 }
	type ifreq struct {
		name [unix.IFNAMSIZ]byte
		data uintptr
		_    [16]byte
	}
	return namedns.Do(ns, func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		val := ethtoolValue{cmd: ethtoolSTxCsum, data: ethtoolSetValue}
		var req ifreq
		copy(req.name[:], iface)
		req.data = uintptr(unsafe.Pointer(&val))
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), siocethtool, uintptr(unsafe.Pointer(&req)))
		if errno != 0 && errno != unix.EOPNOTSUPP {
			return fmt.Errorf("tx checksum offload off: %w", errno)
		}
		return nil
	})
}

// ovnLeaks reports what of the OVN fabric is missing or left over.
func (d *Driver) ovnLeaks(destroyed bool, add func(string, ...any)) {
	running := map[string][]ovnhost.Proc{}
	for _, p := range ovnhost.TaggedProcs(chassisTagPrefix(d.prefix)) {
		site := strings.TrimPrefix(p.Tag, chassisTagPrefix(d.prefix))
		running[site] = append(running[site], p)
	}
	for _, s := range d.siteList {
		if !destroyed {
			pids := ovnhost.ChassisPids(d.chassisDir(s.name))
			for _, name := range []string{"ovsdb-server", "ovs-vswitchd", "ovn-controller"} {
				if pids[name] == 0 {
					add("site %s: chassis %s is not running", s.name, name)
				}
			}
			delete(running, s.name)
		}
	}
	for site, procs := range running {
		for _, p := range procs {
			add("chassis process %d of site %q: %s", p.Pid, site, p.Cmdline)
		}
	}
}

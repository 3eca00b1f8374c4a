package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
	"unsafe"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/internal/ovnhost"
)

// Binding interfaces to logical ports on the OVN fabric.

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
	return namedns.Do(ns, func() error { return ethtoolOff(iface, ethtoolSTxCsum) })
}

// ethtool commands setting one feature (ETHTOOL_S*).
const (
	ethtoolSTxCsum = 0x17
	ethtoolSGRO    = 0x2c
)

// ethtoolOff turns a feature off with the ethtool ioctl, on a link of the
// calling thread's namespace; a link without the feature is left alone.
func ethtoolOff(iface string, cmd uint32) error {
	const siocethtool = 0x8946
	type ethtoolValue struct{ cmd, data uint32 }
	type ifreq struct {
		name [unix.IFNAMSIZ]byte
		data uintptr
		_    [16]byte
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	val := ethtoolValue{cmd: cmd}
	var req ifreq
	copy(req.name[:], iface)
	req.data = uintptr(unsafe.Pointer(&val))
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), siocethtool, uintptr(unsafe.Pointer(&req)))
	if errno != 0 && errno != unix.EOPNOTSUPP {
		return fmt.Errorf("%s: ethtool feature %#x off: %w", iface, cmd, errno)
	}
	return nil
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

package local

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"

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

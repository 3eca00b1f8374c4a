package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"slices"
	"sort"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/stitchnfv/stitch/vim"
)

// EnsureNetwork creates the network or returns the existing one of that
// name. A network is a bridge in each of its sites' namespaces, which holds
// the site's address (host number site index+1); several sites are
// stretched by veth pairs from each further site to the first one. Two
// networks sharing a site must not overlap. Only IPv4 subnets are supported
// (IPv6 → vim.ErrInvalid).
func (d *Driver) EnsureNetwork(ctx context.Context, spec vim.NetworkSpec) (vim.Network, error) {
	if err := d.begin(); err != nil {
		return vim.Network{}, err
	}
	defer d.end()
	if err := validName("network", spec.Name); err != nil {
		return vim.Network{}, fmt.Errorf("%w: %v", vim.ErrInvalid, err)
	}
	prefix, err := parseCIDR(spec.CIDR)
	if err != nil {
		return vim.Network{}, err
	}
	if len(spec.Sites) == 0 {
		return vim.Network{}, fmt.Errorf("%w: network %s: no sites", vim.ErrInvalid, spec.Name)
	}
	for i, sn := range spec.Sites {
		if _, ok := d.sites[sn]; !ok {
			return vim.Network{}, fmt.Errorf("%w: network %s: site %q", vim.ErrUnknownSite, spec.Name, sn)
		}
		if slices.Contains(spec.Sites[:i], sn) {
			return vim.Network{}, fmt.Errorf("%w: network %s: site %q listed twice", vim.ErrInvalid, spec.Name, sn)
		}
		if d.ovn != nil && spec.AccessPorts[sn] == "" {
			return vim.Network{}, fmt.Errorf("%w: network %s: no access port (logical port) for site %q on the OVN fabric",
				vim.ErrInvalid, spec.Name, sn)
		}
	}

	unlock := d.locks.lock("n/" + spec.Name)
	defer unlock()

	d.mu.Lock()
	n := d.nets[spec.Name]
	if n != nil && !sameNetwork(n.rec, prefix, spec.Sites) {
		if n.ready || len(n.users) > 0 {
			rec := n.rec
			d.mu.Unlock()
			return vim.Network{}, fmt.Errorf("%w: network %s exists with CIDR %s and sites %v",
				vim.ErrInvalid, spec.Name, rec.CIDR, rec.Sites)
		}
		// An interrupted create of another shape: remove it, start over.
		rec := n.rec.clone()
		d.mu.Unlock()
		if err := d.dropNetwork(n, rec); err != nil {
			return vim.Network{}, err
		}
		d.mu.Lock()
		n = nil
	}
	if n != nil && n.ready {
		out := n.view()
		d.mu.Unlock()
		return out, nil
	}
	created := n == nil
	if created {
		if n, err = d.addNetwork(spec, prefix); err != nil {
			d.mu.Unlock()
			return vim.Network{}, err
		}
	}
	rec := n.rec.clone()
	d.mu.Unlock()

	if created {
		if err := writeJSON(d.store.networkPath(rec.Name), &rec); err != nil {
			d.mu.Lock()
			d.unregisterNetwork(n)
			d.mu.Unlock()
			return vim.Network{}, err
		}
	} else {
		d.log.Info("repairing interrupted network create", "network", rec.Name)
	}
	idx, err := d.ensureNetworkObjects(rec)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		if created {
			err = errors.Join(err, d.dropNetwork(n, rec))
		}
		return vim.Network{}, fmt.Errorf("network %s: %w", rec.Name, err)
	}
	d.mu.Lock()
	n.rec.Status = netReady
	n.bridgeIdx = idx
	rec = n.rec.clone()
	d.mu.Unlock()
	if err := writeJSON(d.store.networkPath(rec.Name), &rec); err != nil {
		return vim.Network{}, err
	}
	d.mu.Lock()
	n.ready = true
	out := n.view()
	d.mu.Unlock()
	d.log.Info("network ready", "network", rec.Name, "cidr", rec.CIDR, "sites", rec.Sites)
	return out, nil
}

func sameNetwork(rec networkRecord, prefix netip.Prefix, sites []string) bool {
	a, b := slices.Clone(rec.Sites), slices.Clone(sites)
	slices.Sort(a)
	slices.Sort(b)
	return rec.CIDR == prefix.String() && slices.Equal(a, b)
}

// addNetwork validates a new network against the others, allocates its
// kernel names and registers it (not ready). d.mu held.
func (d *Driver) addNetwork(spec vim.NetworkSpec, prefix netip.Prefix) (*network, error) {
	for _, m := range d.nets {
		shared := slices.ContainsFunc(spec.Sites, func(s string) bool { return slices.Contains(m.rec.Sites, s) })
		if shared && m.prefix.Overlaps(prefix) {
			return nil, fmt.Errorf("%w: network %s: %s overlaps network %s (%s) on a shared site",
				vim.ErrInvalid, spec.Name, prefix, m.rec.Name, m.rec.CIDR)
		}
	}
	rec := networkRecord{
		Name:    spec.Name,
		CIDR:    prefix.String(),
		Sites:   slices.Clone(spec.Sites),
		Tags:    vim.Tags(cloneMap(spec.Tags)),
		Status:  netPending,
		Created: time.Now().UTC().Truncate(time.Millisecond),
	}
	owner := "network/" + spec.Name
	pick := func(kind byte, key string) string {
		for salt := 0; ; salt++ {
			if name := ifName(d.prefix, kind, key, salt); d.claimName(name, owner) {
				return name
			}
		}
	}
	if d.ovn != nil {
		for _, sn := range spec.Sites {
			rec.Access = append(rec.Access, accessRecord{
				Site:        sn,
				LogicalPort: spec.AccessPorts[sn],
				Iface:       pick('a', "access\x00"+spec.Name+"\x00"+sn),
				IP:          addrPlus(prefix.Addr(), uint32(d.sites[sn].index)+2).String(),
				MAC:         accessMAC(d.prefix, spec.Name, sn).String(),
			})
		}
		n, err := d.registerNetwork(rec)
		if err != nil {
			d.releaseNetworkNames(rec)
		}
		return n, err
	}
	rec.Bridge = pick('b', "bridge\x00"+spec.Name)
	hub := spec.Sites[0]
	for _, sn := range spec.Sites[1:] {
		rec.Links = append(rec.Links, interSiteLink{
			Site:      sn,
			Iface:     pick('w', spec.Name+"\x00"+sn+"\x00"+hub),
			Peer:      hub,
			PeerIface: pick('w', spec.Name+"\x00"+hub+"\x00"+sn),
		})
	}
	n, err := d.registerNetwork(rec)
	if err != nil {
		d.releaseNetworkNames(rec)
	}
	return n, err
}

// registerNetwork adds a network record to the in-memory state. d.mu held.
func (d *Driver) registerNetwork(rec networkRecord) (*network, error) {
	prefix, err := parseCIDR(rec.CIDR)
	if err != nil {
		return nil, err
	}
	reserved := len(d.siteList)
	if d.ovn != nil {
		reserved++ // host 1: the gateway
	}
	a, err := newIPAM(prefix, reserved)
	if err != nil {
		return nil, err
	}
	if d.ovn != nil {
		a.siteShift = 1
	}
	for _, sn := range rec.Sites {
		if _, ok := d.sites[sn]; !ok {
			return nil, fmt.Errorf("%w: network %s: site %q is not configured", vim.ErrUnknownSite, rec.Name, sn)
		}
	}
	owner := "network/" + rec.Name
	for _, name := range networkIfNames(rec) {
		d.names[name] = owner
	}
	n := &network{rec: rec, prefix: prefix, ipam: a, users: map[string]int{}, bridgeIdx: map[string]int{}, ports: map[string]int{}}
	d.nets[rec.Name] = n
	return n, nil
}

func networkIfNames(rec networkRecord) []string {
	var out []string
	if rec.Bridge != "" {
		out = append(out, rec.Bridge)
	}
	for _, l := range rec.Links {
		out = append(out, l.Iface, l.PeerIface)
	}
	for _, a := range rec.Access {
		out = append(out, a.Iface)
	}
	return out
}

func (d *Driver) releaseNetworkNames(rec networkRecord) {
	for _, name := range networkIfNames(rec) {
		delete(d.names, name)
	}
}

func (d *Driver) unregisterNetwork(n *network) {
	if d.nets[n.rec.Name] == n {
		delete(d.nets, n.rec.Name)
	}
	d.releaseNetworkNames(n.rec)
}

// dropNetwork removes a network's kernel objects, record and registration.
func (d *Driver) dropNetwork(n *network, rec networkRecord) error {
	if err := d.teardownNetworkObjects(rec); err != nil {
		return err
	}
	if err := removeFile(d.store.networkPath(rec.Name)); err != nil {
		return err
	}
	d.mu.Lock()
	d.unregisterNetwork(n)
	d.mu.Unlock()
	return nil
}

func (n *network) view() vim.Network {
	out := vim.Network{
		ID:    n.rec.Name,
		Name:  n.rec.Name,
		CIDR:  n.rec.CIDR,
		Sites: slices.Clone(n.rec.Sites),
		Tags:  vim.Tags(cloneMap(n.rec.Tags)),
	}
	if len(n.rec.Access) > 0 { // OVN fabric
		out.Gateway = addrPlus(n.prefix.Addr(), 1).String()
		for _, a := range n.rec.Access {
			out.Access = append(out.Access, vim.AccessPort{Site: a.Site, LogicalPort: a.LogicalPort, IP: a.IP, MAC: a.MAC})
		}
	}
	return out
}

func isLinkNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf)
}

// linkUp sets a link up by name.
func linkUp(h *netlink.Handle, name string) error {
	l, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("link %s up: %w", name, err)
	}
	return nil
}

// deleteLink deletes a link by name; a missing link is fine.
func deleteLink(h *netlink.Handle, name string) error {
	l, err := h.LinkByName(name)
	if isLinkNotFound(err) {
		return nil
	}
	if err == nil {
		err = h.LinkDel(l)
	}
	if err != nil && !isLinkNotFound(err) && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("delete link %s: %w", name, err)
	}
	return nil
}

func ipNet(a netip.Addr, bits int) *net.IPNet {
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(bits, a.BitLen())}
}

// ensureNetworkObjects creates whatever of the network's bridges and
// inter-site links is missing (idempotent) and returns the bridge ifindex
// per site.
func (d *Driver) ensureNetworkObjects(rec networkRecord) (map[string]int, error) {
	prefix, err := parseCIDR(rec.CIDR)
	if err != nil {
		return nil, err
	}
	idx := map[string]int{}
	if d.ovn != nil {
		return idx, d.ensureAccessPorts(context.Background(), rec, prefix)
	}
	alias := aliasFor(rec.Tags, "network/"+rec.Name)
	for _, sn := range rec.Sites {
		s := d.sites[sn]
		br, err := s.nl.LinkByName(rec.Bridge)
		if isLinkNotFound(err) {
			la := netlink.NewLinkAttrs()
			la.Name = rec.Bridge
			la.Alias = alias
			la.HardwareAddr = bridgeMAC(sn, rec.Bridge)
			if err := s.nl.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil {
				return nil, fmt.Errorf("site %s: create bridge %s: %w", sn, rec.Bridge, err)
			}
			br, err = s.nl.LinkByName(rec.Bridge)
		}
		if err != nil {
			return nil, fmt.Errorf("site %s: bridge %s: %w", sn, rec.Bridge, err)
		}
		if mac := bridgeMAC(sn, rec.Bridge); !bytes.Equal(br.Attrs().HardwareAddr, mac) {
			if err := s.nl.LinkSetHardwareAddr(br, mac); err != nil {
				return nil, fmt.Errorf("site %s: bridge %s address: %w", sn, rec.Bridge, err)
			}
		}
		addr := ipNet(addrPlus(prefix.Addr(), uint32(s.index)+1), prefix.Bits())
		if err := s.nl.AddrReplace(br, &netlink.Addr{IPNet: addr}); err != nil {
			return nil, fmt.Errorf("site %s: address %s on %s: %w", sn, addr, rec.Bridge, err)
		}
		if err := s.nl.LinkSetUp(br); err != nil {
			return nil, fmt.Errorf("site %s: bridge %s up: %w", sn, rec.Bridge, err)
		}
		idx[sn] = br.Attrs().Index
	}
	for _, l := range rec.Links {
		s, hub := d.sites[l.Site], d.sites[l.Peer]
		_, err1 := s.nl.LinkByName(l.Iface)
		_, err2 := hub.nl.LinkByName(l.PeerIface)
		if err1 != nil || err2 != nil {
			if err := deleteLink(s.nl, l.Iface); err != nil {
				return nil, err
			}
			if err := deleteLink(hub.nl, l.PeerIface); err != nil {
				return nil, err
			}
			la := netlink.NewLinkAttrs()
			la.Name = l.Iface
			la.Alias = alias
			veth := &netlink.Veth{LinkAttrs: la, PeerName: l.PeerIface, PeerNamespace: netlink.NsFd(hub.ns), PeerTxQLen: -1}
			if err := s.nl.LinkAdd(veth); err != nil {
				return nil, fmt.Errorf("site %s: create link %s to site %s: %w", l.Site, l.Iface, l.Peer, err)
			}
		}
		for _, end := range []struct {
			s    *site
			name string
		}{{s, l.Iface}, {hub, l.PeerIface}} {
			link, err := end.s.nl.LinkByName(end.name)
			if err == nil && link.Attrs().Alias != alias {
				err = end.s.nl.LinkSetAlias(link, alias)
			}
			if err == nil {
				err = end.s.nl.LinkSetMasterByIndex(link, idx[end.s.name])
			}
			if err == nil {
				err = end.s.nl.LinkSetUp(link)
			}
			if err != nil {
				return nil, fmt.Errorf("site %s: link %s: %w", end.s.name, end.name, err)
			}
		}
	}
	return idx, nil
}

// addrPlus returns the IPv4 address n after a.
func addrPlus(a netip.Addr, n uint32) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += n
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// teardownNetworkObjects deletes the network's links and bridges; missing
// ones are fine.
func (d *Driver) teardownNetworkObjects(rec networkRecord) error {
	errs := []error{d.removeAccessPorts(rec)}
	for _, l := range rec.Links {
		if s := d.sites[l.Site]; s != nil && s.nl != nil {
			errs = append(errs, deleteLink(s.nl, l.Iface))
		}
		if s := d.sites[l.Peer]; s != nil && s.nl != nil {
			errs = append(errs, deleteLink(s.nl, l.PeerIface))
		}
	}
	for _, sn := range rec.Sites {
		if s := d.sites[sn]; s != nil && s.nl != nil && rec.Bridge != "" {
			errs = append(errs, deleteLink(s.nl, rec.Bridge))
		}
	}
	return errors.Join(errs...)
}

// DeleteNetwork removes the network's bridges, inter-site links and record.
// It refuses (vim.ErrInvalid) while an instance has a port on it. Deleting a
// missing network is not an error.
func (d *Driver) DeleteNetwork(ctx context.Context, id string) error {
	if err := d.begin(); err != nil {
		return err
	}
	defer d.end()
	return d.deleteNetwork(id)
}

func (d *Driver) deleteNetwork(id string) error {
	unlock := d.locks.lock("n/" + id)
	defer unlock()
	d.mu.Lock()
	n := d.nets[id]
	if n == nil {
		d.mu.Unlock()
		return nil
	}
	if len(n.users) > 0 {
		users := slices.Sorted(maps.Keys(n.users))
		d.mu.Unlock()
		return fmt.Errorf("%w: network %s is in use by instance %s (%d instances in all)",
			vim.ErrInvalid, id, users[0], len(users))
	}
	n.ready = false
	n.rec.Status = netPending
	rec := n.rec.clone()
	d.mu.Unlock()
	// Mark it PENDING first: a crash half way leaves a record to finish.
	if err := writeJSON(d.store.networkPath(id), &rec); err != nil {
		return err
	}
	if err := d.dropNetwork(n, rec); err != nil {
		return fmt.Errorf("network %s: %w", id, err)
	}
	d.log.Info("network deleted", "network", id)
	return nil
}

// ListNetworks lists the networks whose tags match sel, by name.
func (d *Driver) ListNetworks(ctx context.Context, sel vim.Tags) ([]vim.Network, error) {
	if err := d.begin(); err != nil {
		return nil, err
	}
	defer d.end()
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []vim.Network
	for _, n := range d.nets {
		if n.rec.Tags.Matches(sel) {
			out = append(out, n.view())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// loadNetworks registers the network records and recreates missing kernel
// objects of ready networks (after a reboot the namespaces are empty).
func (d *Driver) loadNetworks(ctx context.Context) error {
	recs, err := loadRecords[networkRecord](d.store.networksDir())
	if err != nil {
		return err
	}
	for _, rec := range recs {
		d.mu.Lock()
		n, err := d.registerNetwork(*rec)
		d.mu.Unlock()
		if err != nil {
			return fmt.Errorf("network record %s: %w", rec.Name, err)
		}
		if rec.Status != netReady {
			continue // finished by the next EnsureNetwork or DeleteNetwork
		}
		idx, err := d.ensureNetworkObjects(*rec)
		d.mu.Lock()
		if err != nil {
			d.log.Error("cannot restore network; it stays unusable until EnsureNetwork repairs it",
				"network", rec.Name, "err", err)
			n.rec.Status = netPending
		} else {
			n.bridgeIdx = idx
			n.ready = true
		}
		d.mu.Unlock()
	}
	return nil
}

// bridgeMAC is a bridge's fixed, locally administered address. A bridge
// left to choose its own takes the lowest address among its ports, so it
// would change as instances come and go, and every change flushes the
// site's neighbour entries and leaves instances with a stale gateway.
func bridgeMAC(site, bridge string) net.HardwareAddr {
	h := sha256.Sum256([]byte("bridge-mac\x00" + site + "\x00" + bridge))
	return net.HardwareAddr{0x02, h[0], h[1], h[2], h[3], h[4]}
}

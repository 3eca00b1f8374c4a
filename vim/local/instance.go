package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/vim"
)

// maxPorts bounds an instance's ports (eth0…eth31).
const maxPorts = 32

// CreateInstance starts an instance or returns the existing one of that
// name (the ID is the name). An EXITED instance is returned as it is: the
// caller deletes and recreates it. A PENDING one (a create interrupted by a
// crash) is torn down and built again. The spec is validated before anything
// is created; a failure half way undoes what was created.
func (d *Driver) CreateInstance(ctx context.Context, spec vim.InstanceSpec) (vim.Instance, error) {
	if err := d.begin(); err != nil {
		return vim.Instance{}, err
	}
	defer d.end()
	if err := validName("instance", spec.Name); err != nil {
		return vim.Instance{}, fmt.Errorf("%w: %v", vim.ErrInvalid, err)
	}
	if d.sites[spec.Site] == nil {
		return vim.Instance{}, fmt.Errorf("instance %s: %w: %q", spec.Name, vim.ErrUnknownSite, spec.Site)
	}
	unlock := d.locks.lock("i/" + spec.Name)
	defer unlock()

	d.mu.Lock()
	inst := d.insts[spec.Name]
	if inst != nil && inst.rec.Status != vim.StatusPending {
		out, changed := d.view(inst)
		d.mu.Unlock()
		if changed {
			d.persistLogged(inst)
		}
		return out, nil
	}
	d.mu.Unlock()
	if inst != nil {
		d.log.Warn("repairing interrupted instance create", "instance", spec.Name)
		if err := d.destroyInstance(inst); err != nil {
			return vim.Instance{}, fmt.Errorf("instance %s: repair: %w", spec.Name, err)
		}
	}

	program, err := lookProgram(spec.Program, d.programPath)
	if err != nil {
		return vim.Instance{}, fmt.Errorf("instance %s: %w", spec.Name, err)
	}
	d.mu.Lock()
	inst, plan, err := d.reserve(spec, program)
	d.mu.Unlock()
	if err != nil {
		return vim.Instance{}, fmt.Errorf("instance %s: %w", spec.Name, err)
	}
	if err := d.persist(inst); err != nil {
		d.mu.Lock()
		d.unreserve(inst)
		d.mu.Unlock()
		return vim.Instance{}, err
	}

	t0 := time.Now()
	res, err := d.build(ctx, plan)
	if err != nil {
		var crash errCrash
		if errors.As(err, &crash) {
			return vim.Instance{}, err // tests: behave as if the daemon died here
		}
		if res.pid > 0 {
			syscall.Kill(-res.pid, syscall.SIGKILL)
			reapIfChild([]int{res.pid})
		}
		if uerr := d.destroyInstance(inst); uerr != nil {
			err = errors.Join(err, fmt.Errorf("undo: %w", uerr))
		}
		return vim.Instance{}, fmt.Errorf("instance %s: %w", spec.Name, err)
	}

	p := &proc{pid: res.pid, startTime: res.startTime, child: true, done: make(chan struct{})}
	if f, err := openPidfd(p.pid, p.startTime); err == nil {
		p.pidfd = f
	}
	d.mu.Lock()
	for i, mac := range res.macs {
		inst.rec.Ports[i].MAC = mac
	}
	inst.rec.PID, inst.rec.StartTime = res.pid, res.startTime
	inst.rec.Status = vim.StatusRunning
	inst.version++
	inst.proc = p
	d.mu.Unlock()
	d.watch(inst, p)
	if err := d.persist(inst); err != nil {
		// Without a durable record of it the instance cannot stay.
		if uerr := d.destroyInstance(inst); uerr != nil {
			err = errors.Join(err, fmt.Errorf("undo: %w", uerr))
		}
		return vim.Instance{}, fmt.Errorf("instance %s: %w", spec.Name, err)
	}
	d.mu.Lock()
	out, _ := d.view(inst)
	d.mu.Unlock()
	d.log.Info("instance started", "instance", spec.Name, "site", spec.Site, "pid", res.pid,
		"took", time.Since(t0).Round(time.Microsecond))
	return out, nil
}

// buildPlan is what build needs, copied out of the locked state.
type buildPlan struct {
	rec      instanceRecord
	site     *site
	prefixes []netip.Prefix // per port
	bridges  []int          // per port: bridge ifindex in the site namespace
	gateway  netip.Addr     // the site's address on the first port's network
}

type buildResult struct {
	macs      []string
	pid       int
	startTime uint64
}

// reserve validates spec and reserves capacity, addresses and kernel names;
// on success the instance is registered as PENDING. d.mu held.
func (d *Driver) reserve(spec vim.InstanceSpec, program string) (*instance, buildPlan, error) {
	s := d.sites[spec.Site]
	if s == nil {
		return nil, buildPlan{}, fmt.Errorf("%w: %q", vim.ErrUnknownSite, spec.Site)
	}
	if spec.VCPU < 0 || spec.MemoryMB < 0 {
		return nil, buildPlan{}, fmt.Errorf("%w: negative VCPU or MemoryMB", vim.ErrInvalid)
	}
	if len(spec.Ports) > maxPorts {
		return nil, buildPlan{}, fmt.Errorf("%w: %d ports, at most %d", vim.ErrInvalid, len(spec.Ports), maxPorts)
	}
	nets := make([]*network, len(spec.Ports))
	ips := make([]netip.Addr, len(spec.Ports))
	for i, ps := range spec.Ports {
		n := d.nets[ps.Network]
		switch {
		case n == nil || !n.ready:
			return nil, buildPlan{}, fmt.Errorf("%w: port %d (%s): unknown network %q", vim.ErrInvalid, i, ps.Name, ps.Network)
		case !slices.Contains(n.rec.Sites, s.name):
			return nil, buildPlan{}, fmt.Errorf("%w: port %d (%s): network %s does not reach site %s",
				vim.ErrInvalid, i, ps.Name, ps.Network, s.name)
		}
		if d.ovn != nil && ps.LogicalPort == "" {
			return nil, buildPlan{}, fmt.Errorf("%w: port %d (%s): no logical port on the OVN fabric", vim.ErrInvalid, i, ps.Name)
		}
		if _, _, err := anycastAddrs(ps); err != nil {
			return nil, buildPlan{}, fmt.Errorf("port %d (%s): %w", i, ps.Name, err)
		}
		if ps.MAC != "" {
			if mac, err := net.ParseMAC(ps.MAC); err != nil || len(mac) != 6 || mac[0]&1 != 0 {
				return nil, buildPlan{}, fmt.Errorf("%w: port %d (%s): MAC %q is not a unicast Ethernet address", vim.ErrInvalid, i, ps.Name, ps.MAC)
			}
		}
		if d.ovn == nil && n.ports[s.name] >= maxBridgePorts {
			return nil, buildPlan{}, fmt.Errorf("%w: port %d (%s): network %s already has %d ports on site %s, the most one Linux bridge takes",
				vim.ErrNoCapacity, i, ps.Name, ps.Network, n.ports[s.name], s.name)
		}
		nets[i] = n
		if ps.IP != "" {
			ip, err := netip.ParseAddr(ps.IP)
			if err != nil {
				return nil, buildPlan{}, fmt.Errorf("%w: port %d (%s): IP %q: %v", vim.ErrInvalid, i, ps.Name, ps.IP, err)
			}
			ips[i] = ip
		}
	}
	if err := s.fits(spec.VCPU, spec.MemoryMB); err != nil {
		return nil, buildPlan{}, err
	}

	// Addresses: explicit ones first, so an allocation cannot take them.
	var taken []int
	undo := func() {
		for _, i := range taken {
			nets[i].ipam.release(ips[i])
		}
	}
	for i := range spec.Ports {
		if ips[i].IsValid() {
			if err := nets[i].ipam.claim(ips[i]); err != nil {
				undo()
				return nil, buildPlan{}, fmt.Errorf("port %d (%s): %w", i, spec.Ports[i].Name, err)
			}
			taken = append(taken, i)
		}
	}
	for i := range spec.Ports {
		if !ips[i].IsValid() {
			ip, err := nets[i].ipam.allocate()
			if err != nil {
				undo()
				return nil, buildPlan{}, fmt.Errorf("port %d (%s): %w", i, spec.Ports[i].Name, err)
			}
			ips[i] = ip
			taken = append(taken, i)
		}
	}

	// Kernel names, unique within the driver.
	owner := "instance/" + spec.Name
	rec := instanceRecord{
		Name:     spec.Name,
		Site:     s.name,
		Status:   vim.StatusPending,
		Program:  program,
		Args:     slices.Clone(spec.Args),
		Env:      cloneMap(spec.Env),
		VCPU:     spec.VCPU,
		MemoryMB: spec.MemoryMB,
		Tags:     vim.Tags(cloneMap(spec.Tags)),
		Created:  time.Now().UTC().Truncate(time.Millisecond),
		LogPath:  d.store.logPath(spec.Name),
	}
	for salt := 0; ; salt++ {
		key := spec.Name
		if salt > 0 {
			key += "\x00" + strconv.Itoa(salt)
		}
		if d.claimName(instanceNetNS(d.prefix, key), owner) {
			rec.NetNS = instanceNetNS(d.prefix, key)
			if d.cg != nil {
				rec.Cgroup = instanceCgroup(key)
			}
			break
		}
	}
	plan := buildPlan{site: s}
	for i, ps := range spec.Ports {
		var host string
		for salt := 0; ; salt++ {
			if host = ifName(d.prefix, 'v', spec.Name+"\x00"+strconv.Itoa(i), salt); d.claimName(host, owner) {
				break
			}
		}
		pr := portRecord{
			Name:      ps.Name,
			Network:   ps.Network,
			IP:        ips[i].String(),
			Iface:     "eth" + strconv.Itoa(i),
			HostIface: host,
		}
		if d.ovn != nil {
			pr.LogicalPort = ps.LogicalPort
			pr.MAC = portMAC(spec.Name, i).String()
		}
		if ps.MAC != "" {
			// The orchestrator rendered the logical port with it.
			pr.MAC = strings.ToLower(ps.MAC)
		}
		pr.Anycast, pr.TunnelsFrom, pr.Forwarder = slices.Clone(ps.Anycast), slices.Clone(ps.TunnelsFrom), ps.Forwarder
		rec.Ports = append(rec.Ports, pr)
		plan.prefixes = append(plan.prefixes, nets[i].prefix)
		plan.bridges = append(plan.bridges, nets[i].bridgeIdx[s.name])
		nets[i].users[spec.Name]++
		nets[i].ports[s.name]++
	}
	if len(nets) > 0 {
		plan.gateway = nets[0].ipam.siteAddr(s.index)
		if d.ovn != nil {
			plan.gateway = nets[0].ipam.addr(1) // a logical router port
		}
	}
	s.used.VCPU += spec.VCPU
	s.used.MemoryMB += spec.MemoryMB
	s.used.Instances++
	inst := &instance{rec: rec, version: 1}
	d.insts[spec.Name] = inst
	plan.rec = rec.clone()
	return inst, plan, nil
}

// register adds a loaded record's reservations. d.mu held.
func (d *Driver) register(inst *instance) error {
	rec := &inst.rec
	s := d.sites[rec.Site]
	if s == nil {
		return fmt.Errorf("%w: %q is not configured", vim.ErrUnknownSite, rec.Site)
	}
	owner := "instance/" + rec.Name
	for i, p := range rec.Ports {
		n := d.nets[p.Network]
		if n == nil {
			return fmt.Errorf("port %d: network %q has no record", i, p.Network)
		}
		ip, err := netip.ParseAddr(p.IP)
		if err != nil {
			return fmt.Errorf("port %d: %w", i, err)
		}
		if err := n.ipam.claim(ip); err != nil {
			return fmt.Errorf("port %d: %w", i, err)
		}
		n.users[rec.Name]++
		n.ports[rec.Site]++
		d.names[p.HostIface] = owner
	}
	d.names[rec.NetNS] = owner
	s.used.VCPU += rec.VCPU
	s.used.MemoryMB += rec.MemoryMB
	s.used.Instances++
	d.insts[rec.Name] = inst
	return nil
}

// unreserve releases what reserve or register took. d.mu held.
func (d *Driver) unreserve(inst *instance) {
	rec := &inst.rec
	if d.insts[rec.Name] != inst {
		return
	}
	delete(d.insts, rec.Name)
	for _, p := range rec.Ports {
		if n := d.nets[p.Network]; n != nil {
			if ip, err := netip.ParseAddr(p.IP); err == nil {
				n.ipam.release(ip)
			}
			if n.users[rec.Name]--; n.users[rec.Name] <= 0 {
				delete(n.users, rec.Name)
			}
			n.ports[rec.Site]--
		}
		delete(d.names, p.HostIface)
	}
	delete(d.names, rec.NetNS)
	if s := d.sites[rec.Site]; s != nil {
		s.used.VCPU -= rec.VCPU
		s.used.MemoryMB -= rec.MemoryMB
		s.used.Instances--
	}
}

// build creates the instance's kernel objects and starts its program. On
// error it returns what it got so far; the caller undoes it.
func (d *Driver) build(ctx context.Context, plan buildPlan) (res buildResult, err error) {
	rec, s := plan.rec, plan.site
	if err := d.step("netns"); err != nil {
		return res, err
	}
	ns, err := namedns.Create(rec.NetNS)
	if errors.Is(err, fs.ErrExist) {
		// A leftover of ours (the name is unique among live instances).
		d.log.Warn("removing leftover namespace", "netns", rec.NetNS)
		killNetNSProcs(rec.NetNS)
		if err := namedns.Delete(rec.NetNS); err != nil {
			return res, err
		}
		ns, err = namedns.Create(rec.NetNS)
	}
	if err != nil {
		return res, err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return res, fmt.Errorf("netlink in %s: %w", rec.NetNS, err)
	}
	defer h.Close()
	if err := linkUp(h, "lo"); err != nil {
		return res, err
	}

	alias := aliasFor(rec.Tags, rec.Name)
	var eth0 netlink.Link
	for i, p := range rec.Ports {
		if err := d.step("port"); err != nil {
			return res, err
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		ovn := d.ovn != nil
		if !ovn && plan.bridges[i] == 0 {
			return res, fmt.Errorf("port %d: network %s has no bridge in site %s", i, p.Network, s.name)
		}
		// The site end inherits the site namespace's IPv6 off.
		la := netlink.NewLinkAttrs()
		la.Name = p.HostIface
		la.Alias = alias
		la.Flags = net.FlagUp
		veth := &netlink.Veth{LinkAttrs: la, PeerName: p.Iface, PeerNamespace: netlink.NsFd(ns), PeerTxQLen: -1}
		if ovn {
			// Geneve's overhead must fit the underlay's 1500 bytes.
			la.MTU = ovnMTU
			veth.LinkAttrs = la
			veth.PeerMTU = ovnMTU
		}
		if p.MAC != "" {
			if veth.PeerHardwareAddr, err = net.ParseMAC(p.MAC); err != nil {
				return res, fmt.Errorf("port %d: MAC %q: %w", i, p.MAC, err)
			}
		}
		if err := s.nl.LinkAdd(veth); err != nil {
			return res, fmt.Errorf("port %d: create veth %s: %w", i, p.HostIface, err)
		}
		if ovn {
			if err := s.bindPort(ctx, p.HostIface, p.LogicalPort, false, nil); err != nil {
				return res, fmt.Errorf("port %d: bind %s to logical port %s: %w", i, p.HostIface, p.LogicalPort, err)
			}
			// The userspace datapath forwards what the veth leaves to
			// checksum offload unfilled.
			if err := txChecksumOff(ns, p.Iface); err != nil {
				return res, fmt.Errorf("port %d: %s: %w", i, p.Iface, err)
			}
		} else if err := s.nl.LinkSetMasterByIndex(veth, plan.bridges[i]); err != nil {
			return res, fmt.Errorf("port %d: attach %s to bridge: %w", i, p.HostIface, err)
		}
		peer, err := h.LinkByName(p.Iface)
		if err != nil {
			return res, fmt.Errorf("port %d: %s: %w", i, p.Iface, err)
		}
		// No IPv6 autoconfiguration (see configureNetNS); set while down.
		if err := h.LinkSetIP6AddrGenMode(peer, nl.IN6_ADDR_GEN_MODE_NONE); err != nil && !errors.Is(err, unix.EAFNOSUPPORT) {
			return res, fmt.Errorf("port %d: %s: IPv6 address generation: %w", i, p.Iface, err)
		}
		ip := netip.MustParseAddr(p.IP)
		if err := h.AddrAdd(peer, &netlink.Addr{IPNet: ipNet(ip, plan.prefixes[i].Bits())}); err != nil {
			return res, fmt.Errorf("port %d: address %s: %w", i, p.IP, err)
		}
		if err := h.LinkSetUp(peer); err != nil {
			return res, fmt.Errorf("port %d: %s up: %w", i, p.Iface, err)
		}
		if err := serveAnycast(ctx, ns, h, peer, p); err != nil {
			return res, fmt.Errorf("port %d: %w", i, err)
		}
		if p.Forwarder {
			if err := readyForwarder(s, p.HostIface); err != nil {
				return res, fmt.Errorf("port %d: %w", i, err)
			}
		}
		d.announce(rec.NetNS, peer.Attrs().Index, peer.Attrs().HardwareAddr, ip)
		res.macs = append(res.macs, peer.Attrs().HardwareAddr.String())
		if i == 0 {
			eth0 = peer
		}
	}
	if eth0 != nil {
		if err := d.step("route"); err != nil {
			return res, err
		}
		gw := net.IP(plan.gateway.AsSlice())
		if err := h.RouteAdd(&netlink.Route{LinkIndex: eth0.Attrs().Index, Gw: gw}); err != nil {
			return res, fmt.Errorf("default route via %s: %w", gw, err)
		}
	}
	if d.cg != nil && rec.Cgroup != "" {
		if err := d.step("cgroup"); err != nil {
			return res, err
		}
		if err := d.cg.create(rec.Cgroup, rec.VCPU, rec.MemoryMB); err != nil {
			return res, err
		}
	}
	if err := d.step("process"); err != nil {
		return res, err
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	var cg *cgroups
	if rec.Cgroup != "" {
		cg = d.cg
	}
	res.pid, err = startProcess(startSpec{
		program: rec.Program,
		args:    rec.Args,
		env:     processEnv(rec.Env, d.programPath),
		logPath: rec.LogPath,
		ns:      ns,
		cg:      cg,
		cgLeaf:  rec.Cgroup,
	})
	if err != nil {
		return res, fmt.Errorf("start %s: %w", rec.Program, err)
	}
	st, err := readProcStat(res.pid)
	if err != nil {
		return res, fmt.Errorf("start %s: %w", rec.Program, err)
	}
	res.startTime = st.startTime
	return res, d.step("running")
}

// destroyInstance stops whatever still runs of the instance, removes its
// kernel objects and record and releases its reservations.
func (d *Driver) destroyInstance(inst *instance) error {
	d.mu.Lock()
	rec := inst.rec.clone()
	p := inst.proc
	d.mu.Unlock()
	if err := d.teardownInstance(rec, p); err != nil {
		return err
	}
	if err := d.removeRecord(inst); err != nil {
		return err
	}
	d.mu.Lock()
	d.unreserve(inst)
	d.mu.Unlock()
	return nil
}

// teardownInstance kills the instance's processes and deletes its links,
// namespace and cgroup. Idempotent: missing pieces are fine.
func (d *Driver) teardownInstance(rec instanceRecord, p *proc) error {
	if p != nil {
		p.signalGroup(syscall.SIGKILL)
	}
	var errs []error
	var killed []int
	if d.cg != nil && rec.Cgroup != "" {
		killed = d.cg.procs(rec.Cgroup)
		d.cg.kill(rec.Cgroup)
	} else {
		killed = killNetNSProcs(rec.NetNS)
	}
	if p == nil || !p.child {
		// Only a create interrupted in this very process leaves children
		// nobody watches; reap those, leave everyone else's alone.
		reapIfChild(killed)
	}
	if p != nil && !p.wait(5*time.Second, nil) {
		errs = append(errs, fmt.Errorf("process %d did not exit after SIGKILL", p.pid))
	}
	if s := d.sites[rec.Site]; s != nil && s.nl != nil {
		for _, port := range rec.Ports {
			if port.LogicalPort != "" {
				d.unbindPort(s, port.HostIface)
			}
			errs = append(errs, deleteLink(s.nl, port.HostIface))
		}
	}
	errs = append(errs, namedns.Delete(rec.NetNS))
	switch {
	case rec.Cgroup == "":
	case d.cg != nil:
		errs = append(errs, d.cg.remove(rec.Cgroup))
	default: // recorded while cgroups were available
		for _, base := range prefixCgroupBases(d.prefix) {
			errs = append(errs, rmdirCgroup(filepath.Join(base, rec.Cgroup)))
		}
	}
	return errors.Join(errs...)
}

// reapIfChild reaps those of pids that are exited children of this process
// (a create interrupted in this very process); others are left alone.
func reapIfChild(pids []int) {
	for _, pid := range pids {
		for range 50 {
			wpid, err := syscall.Wait4(pid, nil, syscall.WNOHANG, nil)
			if err != nil || wpid == pid {
				break // not our child, or reaped
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// DeleteInstance stops the instance — SIGTERM to its process group, SIGKILL
// to everything left after grace — and frees everything it held. Its log
// stays. Deleting a missing instance is not an error.
func (d *Driver) DeleteInstance(ctx context.Context, id string, grace time.Duration) error {
	if err := d.begin(); err != nil {
		return err
	}
	defer d.end()
	return d.deleteInstance(ctx, id, grace)
}

func (d *Driver) deleteInstance(ctx context.Context, id string, grace time.Duration) error {
	unlock := d.locks.lock("i/" + id)
	defer unlock()
	d.mu.Lock()
	inst := d.insts[id]
	var p *proc
	if inst != nil {
		p = inst.proc
	}
	d.mu.Unlock()
	if inst == nil {
		return nil
	}
	if p != nil && !p.exited() {
		p.signalGroup(syscall.SIGTERM)
		if grace > 0 && !p.wait(grace, ctx.Done()) {
			d.log.Info("instance did not stop in time, killing it", "instance", id, "grace", grace)
		}
	}
	if err := d.destroyInstance(inst); err != nil {
		return fmt.Errorf("instance %s: %w", id, err)
	}
	d.log.Info("instance deleted", "instance", id)
	return nil
}

// GetInstance returns the instance with that ID (its name), its status
// refreshed: a process that died is EXITED with its exit code when known,
// -1 otherwise.
func (d *Driver) GetInstance(ctx context.Context, id string) (vim.Instance, error) {
	if err := d.begin(); err != nil {
		return vim.Instance{}, err
	}
	defer d.end()
	d.mu.Lock()
	inst := d.insts[id]
	if inst == nil {
		d.mu.Unlock()
		return vim.Instance{}, fmt.Errorf("%w: instance %q", vim.ErrNotFound, id)
	}
	out, changed := d.view(inst)
	d.mu.Unlock()
	if changed {
		d.persistLogged(inst)
	}
	return out, nil
}

// ListInstances lists the instances whose tags match sel, by name. It costs
// no system call per instance when pidfds are available (their exits are
// reported as they happen).
func (d *Driver) ListInstances(ctx context.Context, sel vim.Tags) ([]vim.Instance, error) {
	if err := d.begin(); err != nil {
		return nil, err
	}
	defer d.end()
	var out []vim.Instance
	var changed []*instance
	d.mu.Lock()
	for _, inst := range d.insts {
		if !inst.rec.Tags.Matches(sel) {
			continue
		}
		v, ch := d.view(inst)
		out = append(out, v)
		if ch {
			changed = append(changed, inst)
		}
	}
	d.mu.Unlock()
	for _, inst := range changed {
		d.persistLogged(inst)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// view renders the instance, first refreshing the liveness of a process
// that is not watched through a pidfd. d.mu held; changed reports a status
// change the caller must persist.
func (d *Driver) view(inst *instance) (vim.Instance, bool) {
	changed := false
	if p := inst.proc; p != nil && p.done == nil && inst.rec.Status == vim.StatusRunning &&
		!procAlive(p.pid, p.startTime) {
		inst.rec.Status, inst.rec.ExitCode = vim.StatusExited, -1
		inst.version++
		changed = true
	}
	r := &inst.rec
	out := vim.Instance{
		ID:      r.Name,
		Name:    r.Name,
		Site:    r.Site,
		Status:  r.Status,
		Tags:    vim.Tags(cloneMap(r.Tags)),
		Created: r.Created,
		LogPath: r.LogPath,
	}
	if r.Status == vim.StatusExited {
		out.ExitCode = r.ExitCode
	}
	for _, p := range r.Ports {
		out.Ports = append(out.Ports, vim.Port{Name: p.Name, Network: p.Network, IP: p.IP, MAC: p.MAC, Iface: p.Iface,
			LogicalPort: p.LogicalPort})
	}
	return out, changed
}

func (d *Driver) persistLogged(inst *instance) {
	if err := d.persist(inst); err != nil {
		d.log.Error("cannot write instance record", "instance", inst.rec.Name, "err", err)
	}
}

// watch follows a published process: through its pidfd when it has one
// (no thread held while it runs), else children with a blocking wait4;
// adopted processes without a pidfd (done == nil) are polled by view and
// wait instead.
func (d *Driver) watch(inst *instance, p *proc) {
	if p.done == nil {
		return
	}
	d.watchers.Add(1)
	go func() {
		defer d.watchers.Done()
		var code int
		if p.pidfd != nil {
			var ok bool
			code, ok = waitPidfd(p.pidfd)
			p.pidfd.Close()
			if !ok {
				return // driver closed: the next driver adopts the process
			}
		} else {
			var ws syscall.WaitStatus
			if _, err := syscall.Wait4(p.pid, &ws, 0, nil); err != nil {
				code = -1
			} else if ws.Signaled() {
				code = 128 + int(ws.Signal())
			} else {
				code = ws.ExitStatus()
			}
		}
		d.processExited(inst, p, code)
	}()
}

func (d *Driver) processExited(inst *instance, p *proc, code int) {
	d.mu.Lock()
	if inst.proc == p && inst.rec.Status == vim.StatusRunning {
		inst.rec.Status, inst.rec.ExitCode = vim.StatusExited, code
		inst.version++
	}
	name := inst.rec.Name
	d.mu.Unlock()
	close(p.done)
	d.log.Info("instance exited", "instance", name, "pid", p.pid, "exitCode", code)
	d.persistLogged(inst)
}

// loadInstances registers the instance records and adopts the processes
// that still run; the others are EXITED (exit code -1 unless this process
// is their parent and can still reap them).
func (d *Driver) loadInstances() error {
	recs, err := loadRecords[instanceRecord](d.store.instancesDir())
	if err != nil {
		return err
	}
	for _, rec := range recs {
		inst := &instance{rec: *rec, version: 1, written: 1}
		d.mu.Lock()
		err := d.register(inst)
		d.mu.Unlock()
		if err != nil {
			return fmt.Errorf("instance record %s: %w", rec.Name, err)
		}
		if rec.Status != vim.StatusRunning {
			continue
		}
		if err := d.adopt(inst); err != nil {
			return err
		}
	}
	return nil
}

func (d *Driver) adopt(inst *instance) error {
	rec := &inst.rec
	st, err := readProcStat(rec.PID)
	if err != nil || rec.PID <= 0 || st.startTime != rec.StartTime {
		d.log.Warn("instance process is gone", "instance", rec.Name, "pid", rec.PID)
		rec.Status, rec.ExitCode = vim.StatusExited, -1
		inst.version++
		return d.persist(inst)
	}
	p := &proc{pid: rec.PID, startTime: rec.StartTime, done: make(chan struct{})}
	f, err := openPidfd(p.pid, p.startTime)
	if err != nil {
		if st.state == 'Z' || !procAlive(p.pid, p.startTime) {
			rec.Status, rec.ExitCode = vim.StatusExited, -1
			inst.version++
			return d.persist(inst)
		}
		p.done = nil // no pidfd: poll
		inst.proc = p
		d.log.Info("adopted instance (polled)", "instance", rec.Name, "pid", p.pid)
		return nil
	}
	p.pidfd = f
	if st.state == 'Z' { // exited while nobody watched; reap it if it is ours
		code, _ := waitPidfd(f)
		f.Close()
		rec.Status, rec.ExitCode = vim.StatusExited, code
		inst.version++
		return d.persist(inst)
	}
	inst.proc = p
	d.watch(inst, p)
	d.log.Info("adopted instance", "instance", rec.Name, "pid", p.pid)
	return nil
}

package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/internal/ovnhost"
	"github.com/stitchnfv/stitch/vim"
)

// expect is a kernel object the records account for.
type expect struct {
	owner string
	must  bool // false: may be missing (an interrupted create owns it)
}

// Leaks compares the kernel and cgroups with the records: namespaces,
// links, cgroups and processes carrying the driver's prefix that no record
// owns, and records whose kernel objects are missing. Empty means clean. It
// also works after Close and Destroy.
func (d *Driver) Leaks(ctx context.Context) ([]string, error) {
	nsWant := map[string]expect{}
	linkWant := map[string]map[string]expect{} // site → link → owner
	cgWant := map[string]expect{}
	d.mu.Lock()
	destroyed := d.destroyed
	if !destroyed {
		for _, s := range d.siteList {
			if !s.external {
				nsWant[s.nsName] = expect{"site " + s.name, true}
			}
			linkWant[s.name] = map[string]expect{}
			if d.ovn != nil {
				owner := "chassis of site " + s.name
				linkWant[s.name]["br-int"] = expect{owner, true}
				linkWant[s.name]["br-phy"] = expect{owner, true}
				linkWant[s.name]["ovs-netdev"] = expect{owner, false}
				if s.ulIface != "" {
					linkWant[s.name][s.ulIface] = expect{"underlay", true}
					nsWant[underlayNetNS(d.prefix)] = expect{"underlay", true}
				}
			}
		}
		for _, n := range d.nets {
			owner := "network " + n.rec.Name
			for _, sn := range n.rec.Sites {
				if n.rec.Bridge != "" {
					linkWant[sn][n.rec.Bridge] = expect{owner, n.ready}
				}
			}
			for _, l := range n.rec.Links {
				linkWant[l.Site][l.Iface] = expect{owner, n.ready}
				linkWant[l.Peer][l.PeerIface] = expect{owner, n.ready}
			}
			for _, a := range n.rec.Access {
				linkWant[a.Site][a.Iface] = expect{owner, n.ready}
			}
		}
		for _, inst := range d.insts {
			r := &inst.rec
			owner := "instance " + r.Name
			must := r.Status != vim.StatusPending
			nsWant[r.NetNS] = expect{owner, must}
			for _, p := range r.Ports {
				linkWant[r.Site][p.HostIface] = expect{owner, must}
			}
			if r.Cgroup != "" {
				cgWant[r.Cgroup] = expect{owner, must}
			}
		}
	}
	d.mu.Unlock()

	var leaks []string
	add := func(format string, args ...any) { leaks = append(leaks, fmt.Sprintf(format, args...)) }

	// Namespaces.
	present, err := namedns.List(d.prefix + "-")
	if err != nil {
		return nil, err
	}
	unowned := map[namedns.ID]string{}
	for _, name := range present {
		mounted := namedns.IsMount(namedns.Path(name))
		if _, ok := nsWant[name]; !ok {
			add("netns %s: no record owns it", name)
			if id, ok := namedns.IDOf(namedns.Path(name)); ok && mounted {
				unowned[id] = name
			}
		} else if !mounted {
			add("netns %s: file without a namespace mounted on it", name)
		}
	}
	for name, w := range nsWant {
		if w.must && !slices.Contains(present, name) {
			add("%s: netns %s is missing", w.owner, name)
		}
	}

	// Links: none may live in the host namespace; those in the site
	// namespaces must match the records.
	hostLinks, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list host links: %w", err)
	}
	for _, l := range hostLinks {
		if strings.HasPrefix(l.Attrs().Name, d.prefix+"-") {
			add("host link %s (alias %q): stitch never creates links in the host namespace", l.Attrs().Name, l.Attrs().Alias)
		}
	}
	for _, s := range d.siteList {
		want, ok := linkWant[s.name]
		if destroyed && s.external && namedns.IsMount(namedns.Path(s.nsName)) {
			// A lab's node outlives the driver: nothing of ours may stay.
			want, ok = map[string]expect{}, true
		}
		if !ok || !namedns.IsMount(namedns.Path(s.nsName)) {
			continue
		}
		links, err := listLinksIn(s.nsName)
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, l := range links {
			name := l.Attrs().Name
			seen[name] = true
			if s.external && !strings.HasPrefix(name, d.prefix+"-") && !slices.Contains(ovsLinks, name) {
				continue // the lab's own
			}
			if _, ok := want[name]; !ok && name != "lo" {
				add("site %s: link %s (alias %q): no record owns it", s.name, name, l.Attrs().Alias)
			}
		}
		for name, w := range want {
			if w.must && !seen[name] {
				add("%s: link %s in site %s is missing", w.owner, name, s.name)
			}
		}
	}

	// Cgroups.
	for _, dir := range prefixCgroupDirs(d.prefix) {
		leaf := filepath.Base(dir)
		if _, ok := cgWant[leaf]; !ok {
			add("cgroup %s: no record owns it (processes %v)", dir, readPids(filepath.Join(dir, "cgroup.procs")))
		}
	}
	if d.cg != nil {
		have := d.cg.leaves()
		for leaf, w := range cgWant {
			if w.must && !slices.Contains(have, leaf) {
				add("%s: cgroup %s is missing", w.owner, leaf)
			}
		}
	}
	if destroyed {
		for _, base := range prefixCgroupBases(d.prefix) {
			add("cgroup %s remains after Destroy", base)
		}
	}

	if d.ovn != nil {
		d.ovnLeaks(destroyed, add)
	}

	// Processes in namespaces no record owns.
	for id, pids := range netnsProcs(unowned) {
		for _, pid := range pids {
			add("process %d runs in netns %s, which no record owns", pid, unowned[id])
		}
	}
	slices.Sort(leaks)
	return leaks, nil
}

// listLinksIn dumps the links of a named namespace.
func listLinksIn(nsName string) ([]netlink.Link, error) {
	ns, err := namedns.Open(nsName)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink in %s: %w", nsName, err)
	}
	defer h.Close()
	links, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links in %s: %w", nsName, err)
	}
	return links, nil
}

// deleteLinksIn deletes every link but lo inside a named namespace.
func deleteLinksIn(nsName string) error {
	ns, err := namedns.Open(nsName)
	if err != nil {
		return nil // not mounted: nothing to reach
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", nsName, err)
	}
	defer h.Close()
	links, err := h.LinkList()
	if err != nil {
		return fmt.Errorf("list links in %s: %w", nsName, err)
	}
	var errs []error
	for _, l := range links {
		if l.Attrs().Name == "lo" {
			continue
		}
		if err := h.LinkDel(l); err != nil && !isLinkNotFound(err) && !errors.Is(err, unix.ENODEV) {
			errs = append(errs, fmt.Errorf("netns %s: delete link %s: %w", nsName, l.Attrs().Name, err))
		}
	}
	return errors.Join(errs...)
}

// prefixCgroupBases lists stitch/<prefix> in every cgroup hierarchy.
func prefixCgroupBases(prefix string) []string {
	v2, v1, err := cgroupMounts()
	if err != nil {
		return nil
	}
	mounts := slices.Collect(func(yield func(string) bool) {
		for _, mp := range v1 {
			if !yield(mp) {
				return
			}
		}
	})
	if v2 != "" {
		mounts = append(mounts, v2)
	}
	slices.Sort(mounts)
	mounts = slices.Compact(mounts)
	var out []string
	for _, mp := range mounts {
		base := filepath.Join(mp, cgroupParent, prefix)
		if st, err := os.Stat(base); err == nil && st.IsDir() {
			out = append(out, base)
		}
	}
	return out
}

// prefixCgroupDirs lists the instance cgroups under stitch/<prefix>.
func prefixCgroupDirs(prefix string) []string {
	var out []string
	for _, base := range prefixCgroupBases(prefix) {
		entries, _ := os.ReadDir(base)
		for _, e := range entries {
			if e.IsDir() {
				out = append(out, filepath.Join(base, e.Name()))
			}
		}
	}
	return out
}

// Destroy deletes every instance (without grace), network, site namespace,
// cgroup and record of the driver, then closes it. For tests and demos.
func (d *Driver) Destroy(ctx context.Context) error {
	if err := d.begin(); err != nil {
		return err
	}
	d.mu.Lock()
	var names []string
	for name := range d.insts {
		names = append(names, name)
	}
	var nets []string
	for name := range d.nets {
		nets = append(nets, name)
	}
	d.mu.Unlock()

	var (
		errMu sync.Mutex
		errs  []error
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 8)
	)
	for _, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := d.deleteInstance(ctx, name, 0); err != nil {
				errMu.Lock()
				errs = append(errs, err)
				errMu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, name := range nets {
		errs = append(errs, d.deleteNetwork(name))
	}
	if d.ovn != nil {
		errs = append(errs, d.stopOVN(ctx))
	}
	d.mu.Lock()
	d.destroyed = true
	d.mu.Unlock()
	// Remove the prefix lock file while still holding the lock.
	os.Remove(filepath.Join(lockDir, d.prefix+".lock"))
	d.end()
	errs = append(errs, d.Close())
	for _, s := range d.siteList {
		if !s.external {
			errs = append(errs, namedns.Delete(s.nsName))
		}
	}
	errs = append(errs, Purge(ctx, d.prefix))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("destroy: %w", err)
	}
	d.log.Info("driver destroyed")
	return nil
}

// Purge removes every kernel object carrying prefix — processes in its
// namespaces and cgroups, links, namespaces, cgroups — without looking at
// any record. For a test's cleanup when things went wrong; never use it on
// the prefix of a running driver.
func Purge(ctx context.Context, prefix string) error {
	if !prefixRE.MatchString(prefix) {
		return fmt.Errorf("%w: prefix %q", vim.ErrInvalid, prefix)
	}
	names, err := namedns.List(prefix + "-")
	if err != nil {
		return err
	}
	// Chassis processes (OVN fabric) run partly outside the namespaces.
	ovnhost.KillTagged(chassisTagPrefix(prefix))
	ids := map[namedns.ID]string{}
	for _, name := range names {
		if id, ok := namedns.IDOf(namedns.Path(name)); ok && namedns.IsMount(namedns.Path(name)) {
			ids[id] = name
		}
	}
	var killed []int
	for range 100 {
		var pids []int
		for _, p := range netnsProcs(ids) {
			pids = append(pids, p...)
		}
		if len(pids) == 0 {
			break
		}
		for _, pid := range pids {
			unix.Kill(pid, unix.SIGKILL)
		}
		killed = append(killed, pids...)
		sleepCtx(ctx, 10)
	}
	for _, dir := range prefixCgroupDirs(prefix) {
		killed = append(killed, readPids(filepath.Join(dir, "cgroup.procs"))...)
	}
	var errs []error
	errs = append(errs, purgeCgroups(prefix))
	slices.Sort(killed)
	reapIfChild(slices.Compact(killed))

	if links, err := netlink.LinkList(); err == nil {
		for _, l := range links {
			if strings.HasPrefix(l.Attrs().Name, prefix+"-") {
				if err := netlink.LinkDel(l); err != nil && !isLinkNotFound(err) {
					errs = append(errs, fmt.Errorf("delete host link %s: %w", l.Attrs().Name, err))
				}
			}
		}
	}
	// Delete the links inside the namespaces first so that veth peers in
	// other namespaces vanish now rather than when the kernel gets round to
	// freeing the namespace.
	for _, name := range names {
		errs = append(errs, deleteLinksIn(name))
	}
	for _, name := range names {
		errs = append(errs, namedns.Delete(name))
	}
	removeStaleLock(filepath.Join(lockDir, prefix+".lock"))
	return errors.Join(errs...)
}

// removeStaleLock removes a prefix lock file no driver holds.
func removeStaleLock(path string) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
		os.Remove(path)
	}
}

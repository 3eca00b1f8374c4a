// Package local is stitch's embedded VIM driver: each site (execution zone)
// is a Linux network namespace on this host, each network a bridge inside
// the namespaces of the sites it reaches (stretched between sites by veth
// pairs), and each instance a process in its own network namespace, wired
// to its networks by veth pairs and confined by a cgroup.
//
// With Config.OVN set (the OVN fabric, see ovn.go) each site is instead an
// OVN chassis: instance interfaces and the sites' access interfaces are
// bound to the orchestrator's logical ports, and sites reach each other
// through Geneve tunnels.
//
// Identifiers: a network's ID and an instance's ID are its Name.
//
// Durability: the driver writes a JSON record of every instance and network
// under Config.StateDir before it creates kernel objects, and updates it
// afterwards. Processes outlive the driver (and the daemon); New adopts them
// from the records. An interrupted create leaves a PENDING record that the
// next CreateInstance (or EnsureNetwork) of that name repairs.
//
// Every kernel object carries Config.Prefix in its name (see names.go), so
// Leaks can prove nothing leaked and Purge can sweep a prefix without
// records.
package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/internal/ovnhost"
	"github.com/stitchnfv/stitch/vim"
)

// Config configures a Driver.
type Config struct {
	// Prefix (1-4 lowercase letters or digits) goes into the name of every
	// kernel object the driver creates. Two drivers on one host must use
	// different prefixes.
	Prefix string
	// StateDir holds the records (instances/, networks/) and the instances'
	// output (logs/).
	StateDir string
	// Sites are the execution zones. Their order is part of the state: site
	// i holds host address i+1 of every network it carries.
	Sites  []SiteConfig
	Logger *slog.Logger
	// ProgramPath lists directories searched for a program name without
	// '/', before $PATH.
	ProgramPath []string
	// OVN, when set, makes every site an OVN chassis and binds instance
	// interfaces to logical ports instead of bridging them (see ovn.go).
	OVN *OVNConfig
}

// SiteConfig describes one execution zone. A zero Capacity field means
// unlimited.
type SiteConfig struct {
	Name     string
	Capacity vim.Resources
	Labels   map[string]string
	// NetNS (OVN fabric only) makes an existing network namespace the
	// site instead of <prefix>-s-<site>: a lab's node. The driver never
	// deletes it; the link holding EncapIP carries the site's tunnels.
	NetNS string
	// EncapIP (with NetNS) is the chassis's tunnel endpoint, an IPv4
	// address already present in NetNS.
	EncapIP string
}

// ErrClosed is returned by calls on a closed Driver.
var ErrClosed = errors.New("vim/local: driver closed")

// lockDir holds one lock file per prefix in use on the host.
const lockDir = "/run/stitch"

// Driver implements vim.Driver with network namespaces and processes.
type Driver struct {
	prefix      string
	programPath []string
	log         *slog.Logger
	store       store
	cg          *cgroups // nil: no cgroup limits on this host
	sites       map[string]*site
	siteList    []*site
	locks       keyLock
	dirLock     *os.File
	prefixLock  *os.File
	hooks       *testHooks
	ovn         *OVNConfig // nil: the bridge fabric

	ops      sync.WaitGroup // public operations in flight
	watchers sync.WaitGroup // process watchers and repeated announcements
	stop     chan struct{}  // closed by Close

	mu        sync.Mutex
	closed    bool
	destroyed bool
	nets      map[string]*network
	insts     map[string]*instance
	names     map[string]string // kernel names in use → owner
}

var _ vim.Driver = (*Driver)(nil)

type site struct {
	name     string
	index    int
	nsName   string
	ns       netns.NsHandle
	nl       *netlink.Handle // netlink socket inside the site namespace
	capacity vim.Resources
	labels   map[string]string
	used     vim.Resources // guarded by Driver.mu

	// OVN fabric.
	external bool             // nsName is SiteConfig.NetNS: not the driver's
	encapIP  netip.Addr       // tunnel endpoint
	ulIface  string           // underlay veth end, when the driver builds the underlay
	chassis  *ovnhost.Chassis // set by setupOVN
	phy      netip.Prefix     // br-phy's subnet: tunnel peers in it are on-link
	phyMAC   net.HardwareAddr // br-phy's MAC, which peers resolve EncapIP to
}

type network struct {
	rec       networkRecord // guarded by Driver.mu
	prefix    netip.Prefix
	ipam      *ipam
	ready     bool
	users     map[string]int // instance → number of its ports on this network
	bridgeIdx map[string]int // site → bridge ifindex
	ports     map[string]int // site → instance ports on its bridge
}

// maxBridgePorts is what one Linux bridge takes (BR_MAX_PORTS is 1024; one
// port may link the site to the others).
const maxBridgePorts = 1023

type instance struct {
	rec     instanceRecord // guarded by Driver.mu
	version uint64         // bumped on every change of rec; guarded by Driver.mu
	proc    *proc          // guarded by Driver.mu

	recMu   sync.Mutex // serialises writes of the record file
	written uint64     // version on disk; guarded by recMu
	gone    bool       // record removed; guarded by recMu
}

// testHooks lets tests inject failures; nil in production.
type testHooks struct {
	fail  func(step string) error // returned error is handled like a real one
	crash string                  // at this step return without any cleanup, as if the daemon died
}

// errCrash marks a simulated crash (tests only).
type errCrash struct{ step string }

func (e errCrash) Error() string { return "simulated crash at " + e.step }

func (d *Driver) step(name string) error {
	if d.hooks == nil {
		return nil
	}
	if d.hooks.crash == name {
		return errCrash{name}
	}
	if d.hooks.fail != nil {
		return d.hooks.fail(name)
	}
	return nil
}

// New opens (creating when needed) the site namespaces, loads the records
// under cfg.StateDir, adopts the processes still running and repairs
// networks whose kernel objects are gone (after a reboot).
func New(ctx context.Context, cfg Config) (*Driver, error) {
	if !prefixRE.MatchString(cfg.Prefix) {
		return nil, fmt.Errorf("%w: prefix %q: must be 1-4 lowercase letters or digits", vim.ErrInvalid, cfg.Prefix)
	}
	if cfg.StateDir == "" {
		return nil, fmt.Errorf("%w: no state directory", vim.ErrInvalid)
	}
	if len(cfg.Sites) == 0 {
		return nil, fmt.Errorf("%w: no sites", vim.ErrInvalid)
	}
	if cfg.OVN != nil {
		o := *cfg.OVN
		cfg.OVN = &o
	}
	if err := validateOVN(&cfg); err != nil {
		return nil, err
	}
	stateDir, err := filepath.Abs(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	d := &Driver{
		prefix:      cfg.Prefix,
		programPath: slices.Clone(cfg.ProgramPath),
		log:         log.With("component", "vim/local", "prefix", cfg.Prefix),
		store:       store{dir: stateDir},
		sites:       map[string]*site{},
		nets:        map[string]*network{},
		insts:       map[string]*instance{},
		names:       map[string]string{},
		stop:        make(chan struct{}),
		ovn:         cfg.OVN,
	}
	for i, sc := range cfg.Sites {
		if !siteNameRE.MatchString(sc.Name) {
			return nil, fmt.Errorf("%w: site name %q: must be 1-32 characters of [A-Za-z0-9_-]", vim.ErrInvalid, sc.Name)
		}
		if _, dup := d.sites[sc.Name]; dup {
			return nil, fmt.Errorf("%w: site %q listed twice", vim.ErrInvalid, sc.Name)
		}
		c := sc.Capacity
		if c.VCPU < 0 || c.MemoryMB < 0 || c.Instances < 0 {
			return nil, fmt.Errorf("%w: site %q: negative capacity", vim.ErrInvalid, sc.Name)
		}
		s := &site{name: sc.Name, index: i, nsName: siteNetNS(d.prefix, sc.Name), ns: netns.None(),
			capacity: c, labels: maps.Clone(sc.Labels)}
		if d.ovn != nil {
			if sc.NetNS != "" {
				s.nsName, s.external = sc.NetNS, true
				s.encapIP = netip.MustParseAddr(sc.EncapIP)
			} else {
				s.encapIP = addrPlus(d.ovn.Underlay.Addr(), uint32(i)+1)
				s.ulIface = ifName(d.prefix, 'u', "underlay\x00"+sc.Name, 0)
			}
		}
		d.sites[sc.Name] = s
		d.siteList = append(d.siteList, s)
	}

	ok := false
	defer func() {
		if !ok {
			d.release()
		}
	}()
	if err := d.store.init(); err != nil {
		return nil, err
	}
	if d.dirLock, err = lockFile(filepath.Join(stateDir, ".lock")); err != nil {
		return nil, fmt.Errorf("state dir %s: %w", stateDir, err)
	}
	if d.prefixLock, err = lockFile(filepath.Join(lockDir, d.prefix+".lock")); err != nil {
		return nil, fmt.Errorf("prefix %q: %w", d.prefix, err)
	}
	if d.cg, err = detectCgroups(d.prefix); err != nil {
		d.log.Warn("cgroups unavailable: instances run without CPU and memory limits", "reason", err)
	}
	if err := namedns.PrepareDir(); err != nil {
		return nil, err
	}
	for _, s := range d.siteList {
		if err := d.openSite(s); err != nil {
			return nil, err
		}
	}
	if d.ovn != nil {
		if err := d.setupOVN(ctx); err != nil {
			return nil, err
		}
	}
	if err := d.loadNetworks(ctx); err != nil {
		return nil, err
	}
	if err := d.loadInstances(); err != nil {
		return nil, err
	}
	ok = true
	d.log.Info("driver ready", "sites", len(d.siteList), "networks", len(d.nets),
		"instances", len(d.insts), "cgroups", d.cg != nil, "stateDir", stateDir)
	return d, nil
}

func lockFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	// A lock just released can still be held for a moment by a copy of its
	// descriptor in a child between fork and exec (close-on-exec): retry
	// briefly before calling it taken.
	deadline := time.Now().Add(2 * time.Second)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("in use by another driver (lock %s)", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// openSite opens (creating when needed) the site namespace and configures
// it: loopback up, IPv4 forwarding on.
func (d *Driver) openSite(s *site) error {
	if s.external {
		// A lab's node: used as it is configured.
		h, err := namedns.Open(s.nsName)
		if err != nil {
			return fmt.Errorf("site %s: %w", s.name, err)
		}
		s.ns = h
		if s.nl, err = netlink.NewHandleAt(h, unix.NETLINK_ROUTE); err != nil {
			return fmt.Errorf("site %s: netlink: %w", s.name, err)
		}
		return nil
	}
	h, err := namedns.Open(s.nsName)
	if errors.Is(err, fs.ErrNotExist) {
		if err := namedns.Delete(s.nsName); err != nil { // a file without its mount
			return err
		}
		h, err = namedns.Create(s.nsName)
	}
	if err != nil {
		return fmt.Errorf("site %s: %w", s.name, err)
	}
	s.ns = h
	err = namedns.Do(h, func() error {
		if err := configureNetNS(); err != nil {
			return err
		}
		return setSysctl("net.ipv4.ip_forward", "1")
	})
	if err != nil {
		return fmt.Errorf("site %s: %w", s.name, err)
	}
	if s.nl, err = netlink.NewHandleAt(h, unix.NETLINK_ROUTE); err != nil {
		return fmt.Errorf("site %s: netlink: %w", s.name, err)
	}
	if err := linkUp(s.nl, "lo"); err != nil {
		return fmt.Errorf("site %s: %w", s.name, err)
	}
	return nil
}

// begin registers a public operation; it fails once the driver is closed.
func (d *Driver) begin() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	d.ops.Add(1)
	return nil
}

func (d *Driver) end() { d.ops.Done() }

// Close stops the background goroutines and releases the driver's handles.
// Instances keep running: they outlive the driver as VMs outlive a cloud
// controller, and the next New adopts them.
func (d *Driver) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	d.ops.Wait()
	close(d.stop)

	d.mu.Lock()
	for _, inst := range d.insts {
		if p := inst.proc; p != nil && p.pidfd != nil {
			p.pidfd.Close() // wakes its watcher
		}
	}
	d.mu.Unlock()
	d.watchers.Wait()
	d.release()
	return nil
}

// release closes handles and lock files.
func (d *Driver) release() {
	for _, s := range d.siteList {
		if s.nl != nil {
			s.nl.Close()
			s.nl = nil
		}
		if s.ns.IsOpen() {
			s.ns.Close()
		}
	}
	if d.prefixLock != nil {
		d.prefixLock.Close()
		d.prefixLock = nil
	}
	if d.dirLock != nil {
		d.dirLock.Close()
		d.dirLock = nil
	}
}

// Sites reports each site's capacity and what its instances use.
func (d *Driver) Sites(ctx context.Context) ([]vim.Site, error) {
	if err := d.begin(); err != nil {
		return nil, err
	}
	defer d.end()
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]vim.Site, 0, len(d.siteList))
	for _, s := range d.siteList {
		out = append(out, vim.Site{Name: s.name, Capacity: s.capacity, Used: s.used, Labels: maps.Clone(s.labels)})
	}
	return out, nil
}

// fits checks a request against a site's capacity (0 = unlimited).
func (s *site) fits(vcpu, memoryMB int) error {
	c, u := s.capacity, s.used
	switch {
	case c.Instances > 0 && u.Instances+1 > c.Instances:
		return fmt.Errorf("%w: site %s hosts %d of %d instances", vim.ErrNoCapacity, s.name, u.Instances, c.Instances)
	case c.VCPU > 0 && u.VCPU+vcpu > c.VCPU:
		return fmt.Errorf("%w: site %s: %d vCPU requested, %d of %d free", vim.ErrNoCapacity, s.name, vcpu, c.VCPU-u.VCPU, c.VCPU)
	case c.MemoryMB > 0 && u.MemoryMB+memoryMB > c.MemoryMB:
		return fmt.Errorf("%w: site %s: %d MB requested, %d of %d MB free", vim.ErrNoCapacity, s.name, memoryMB, c.MemoryMB-u.MemoryMB, c.MemoryMB)
	}
	return nil
}

// claimName records a kernel name as taken; false when it already is.
func (d *Driver) claimName(name, owner string) bool {
	if _, taken := d.names[name]; taken {
		return false
	}
	d.names[name] = owner
	return true
}

// persist writes the instance's record if it changed since the last write.
// Safe to call from any goroutine without holding d.mu.
func (d *Driver) persist(inst *instance) error {
	inst.recMu.Lock()
	defer inst.recMu.Unlock()
	if inst.gone {
		return nil
	}
	d.mu.Lock()
	v := inst.version
	rec := inst.rec.clone()
	d.mu.Unlock()
	if v <= inst.written {
		return nil
	}
	if err := writeJSON(d.store.instancePath(rec.Name), &rec); err != nil {
		return err
	}
	inst.written = v
	return nil
}

// removeRecord deletes the instance's record; later persists are no-ops.
func (d *Driver) removeRecord(inst *instance) error {
	inst.recMu.Lock()
	defer inst.recMu.Unlock()
	if err := removeFile(d.store.instancePath(inst.rec.Name)); err != nil {
		return err
	}
	inst.gone = true
	return nil
}

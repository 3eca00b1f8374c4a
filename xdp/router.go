package xdp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// Options configure Load.
type Options struct {
	// RouterIPv4 and RouterIPv6 are the outer source addresses of IPv4 and
	// IPv6 tunnels; the one of a backend's family must be set before
	// packets go to such a backend.
	RouterIPv4, RouterIPv6 netip.Addr
	// ConnTableSize is the number of flows the LRU connection table holds;
	// 0 means 262,144.
	ConnTableSize uint32
}

// Router is the loaded data plane: the XDP program and its maps. Its
// methods are safe for concurrent use.
type Router struct {
	objs     routerObjects
	ringSpec *ebpf.MapSpec
	opts     Options

	mu    sync.Mutex
	rings map[uint32]*tables    // the two Maglev tables of each VIP id
	vips  map[VIP]struct{}      // keys in the vips map
	addrs map[netip.Addr]uint32 // VIP address -> number of VIP keys
	links map[int]link.Link     // by ifindex
}

// Load loads the program and creates its maps. Loading needs root (or
// CAP_BPF and CAP_NET_ADMIN).
func Load(ctx context.Context, opts Options) (*Router, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	spec, err := loadRouter()
	if err != nil {
		return nil, fmt.Errorf("xdp: load spec: %w", err)
	}
	if opts.ConnTableSize != 0 {
		spec.Maps[routerMapConns].MaxEntries = opts.ConnTableSize
	}
	r := &Router{
		ringSpec: spec.Maps[routerMapMaglev].InnerMap.Copy(),
		opts:     opts,
		rings:    map[uint32]*tables{},
		vips:     map[VIP]struct{}{},
		addrs:    map[netip.Addr]uint32{},
		links:    map[int]link.Link{},
	}
	if err := spec.LoadAndAssign(&r.objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("xdp: load objects: %+v", ve)
		}
		return nil, fmt.Errorf("xdp: load objects: %w", err)
	}
	var cfg routerRouterConfig
	if opts.RouterIPv4.IsValid() {
		if !opts.RouterIPv4.Is4() {
			r.Close()
			return nil, fmt.Errorf("xdp: RouterIPv4 %s is not IPv4", opts.RouterIPv4)
		}
		cfg.Src4 = addrOf(opts.RouterIPv4).W[3]
	}
	if opts.RouterIPv6.IsValid() {
		if !opts.RouterIPv6.Is6() || opts.RouterIPv6.Is4In6() {
			r.Close()
			return nil, fmt.Errorf("xdp: RouterIPv6 %s is not IPv6", opts.RouterIPv6)
		}
		cfg.Src6 = addrOf(opts.RouterIPv6)
	}
	if err := r.objs.ConfigMap.Put(uint32(0), &cfg); err != nil {
		r.Close()
		return nil, fmt.Errorf("xdp: set config: %w", err)
	}
	return r, nil
}

// Program is the XDP program, e.g. for Program.Run in tests.
func (r *Router) Program() *ebpf.Program { return r.objs.XdpRouter }

// Attach attaches the program to the interface, in native (driver) mode or
// generic (skb) mode, and records the interface's MAC as the source MAC of
// frames leaving through it. It stays attached until Detach or Close.
func (r *Router) Attach(ctx context.Context, ifindex int, native bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.links[ifindex]; ok {
		return fmt.Errorf("xdp: attach to ifindex %d: already attached", ifindex)
	}
	flags := link.XDPGenericMode
	if native {
		flags = link.XDPDriverMode
	}
	l, err := link.AttachXDP(link.XDPOptions{Program: r.objs.XdpRouter, Interface: ifindex, Flags: flags})
	if err != nil {
		return fmt.Errorf("xdp: attach to ifindex %d: %w", ifindex, err)
	}
	if err := r.learnMAC(ifindex); err != nil {
		l.Close()
		return err
	}
	r.links[ifindex] = l
	return nil
}

// Detach removes the program from the interface.
func (r *Router) Detach(ifindex int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, ok := r.links[ifindex]
	if !ok {
		return fmt.Errorf("xdp: detach ifindex %d: not attached", ifindex)
	}
	delete(r.links, ifindex)
	if err := l.Close(); err != nil {
		return fmt.Errorf("xdp: detach ifindex %d: %w", ifindex, err)
	}
	return nil
}

// SetInterfaceMAC sets the source MAC of frames leaving through ifindex
// (Attach and SetBackend learn it themselves for interfaces of the calling
// network namespace).
func (r *Router) SetInterfaceMAC(ctx context.Context, ifindex int, mac net.HardwareAddr) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var m routerMac
	if len(mac) != len(m.Addr) {
		return fmt.Errorf("xdp: interface MAC %q: want 6 bytes", mac)
	}
	copy(m.Addr[:], mac)
	if err := r.objs.IfMacs.Put(uint32(ifindex), &m); err != nil {
		return fmt.Errorf("xdp: set MAC of ifindex %d: %w", ifindex, err)
	}
	return nil
}

// learnMAC records the MAC of a local interface; interfaces without one
// (or not visible here) are left to the original destination MAC.
func (r *Router) learnMAC(ifindex int) error {
	ifc, err := net.InterfaceByIndex(ifindex)
	if err != nil || len(ifc.HardwareAddr) != 6 {
		return nil
	}
	return r.SetInterfaceMAC(context.Background(), ifindex, ifc.HardwareAddr)
}

// Close detaches the program and frees the maps.
func (r *Router) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for ifindex, l := range r.links {
		if err := l.Close(); err != nil {
			errs = append(errs, fmt.Errorf("detach ifindex %d: %w", ifindex, err))
		}
	}
	r.links = map[int]link.Link{}
	for id, t := range r.rings {
		t.close()
		delete(r.rings, id)
	}
	if err := r.objs.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("xdp: close: %w", err)
	}
	return nil
}

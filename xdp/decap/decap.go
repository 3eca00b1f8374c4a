// Package decap is the instance side of the service router's tunnels: an
// XDP program that strips the outer IPv4/IPv6 header the router (package
// xdp) puts around a new session's packets and passes the inner packet,
// addressed to the VIP, to the instance's stack — this kernel has no ipip
// or ip6tnl device to do it. Only tunnel packets from the configured router
// addresses are opened; others are dropped and counted, so wrapping a
// packet cannot slip it past the instance's filters. Everything that is not
// a tunnel packet passes untouched. The instance answers the client
// directly (direct server return) with the VIP as source, so the VIP must
// be one of its local addresses.
package decap

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// Program is the loaded decapsulation program and its router list.
type Program struct {
	objs decapObjects

	mu    sync.Mutex
	links map[int]link.Link
}

// Counters are summed over CPUs.
type Counters struct {
	Decapsulated uint64 // tunnel packets from a known router, opened
	Refused      uint64 // tunnel packets from anyone else, dropped
}

// Load loads the program, admitting tunnel packets from routers.
func Load(ctx context.Context, routers []netip.Addr) (*Program, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := &Program{links: map[int]link.Link{}}
	if err := loadDecapObjects(&p.objs, nil); err != nil {
		return nil, fmt.Errorf("decap: load: %w", err)
	}
	for _, r := range routers {
		if err := p.AddRouter(r); err != nil {
			p.Close()
			return nil, err
		}
	}
	return p, nil
}

// AddRouter admits tunnel packets from addr.
func (p *Program) AddRouter(addr netip.Addr) error {
	if !addr.IsValid() {
		return errors.New("decap: invalid router address")
	}
	key := decapAddr{B: addr.As16()}
	if err := p.objs.Routers.Put(key, uint8(1)); err != nil {
		return fmt.Errorf("decap: add router %s: %w", addr, err)
	}
	return nil
}

// RemoveRouter stops admitting tunnel packets from addr.
func (p *Program) RemoveRouter(addr netip.Addr) error {
	if err := p.objs.Routers.Delete(decapAddr{B: addr.As16()}); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("decap: remove router %s: %w", addr, err)
	}
	return nil
}

// Attach puts the program on an interface of the calling thread's network
// namespace (native mode when native, else generic).
func (p *Program) Attach(ifindex int, native bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.links[ifindex]; ok {
		return fmt.Errorf("decap: attach to ifindex %d: already attached", ifindex)
	}
	flags := link.XDPGenericMode
	if native {
		flags = link.XDPDriverMode
	}
	l, err := link.AttachXDP(link.XDPOptions{Program: p.objs.Decap, Interface: ifindex, Flags: flags})
	if err != nil {
		return fmt.Errorf("decap: attach to ifindex %d: %w", ifindex, err)
	}
	p.links[ifindex] = l
	return nil
}

// Counters sums the per-CPU counters.
func (p *Program) Counters() (Counters, error) {
	var c Counters
	for i, dst := range []*uint64{&c.Decapsulated, &c.Refused} {
		var perCPU []uint64
		if err := p.objs.Stats.Lookup(uint32(i), &perCPU); err != nil {
			return c, fmt.Errorf("decap: counters: %w", err)
		}
		for _, v := range perCPU {
			*dst += v
		}
	}
	return c, nil
}

// Prog is the program, for tests and benchmarks.
func (p *Program) Prog() *ebpf.Program { return p.objs.Decap }

// Close detaches the program from every interface and unloads it.
func (p *Program) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for _, l := range p.links {
		errs = append(errs, l.Close())
	}
	p.links = nil
	errs = append(errs, p.objs.Close())
	return errors.Join(errs...)
}

// Package servicerouter is stitch's anycast service router: for every
// service access point (a VIP) it turns the session-slot reports of the
// service's instances into weights (servicerouter/slots: headroom for stale
// reports), the weights into a Maglev table that moves as few flows as
// possible (servicerouter/maglev), and programs only what changed into a
// data plane: the XDP program (xdp) or the userspace path
// (servicerouter/userspace), which both place new sessions by that table
// and keep established ones on their instance.
package servicerouter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/stitchnfv/stitch/servicerouter/maglev"
	"github.com/stitchnfv/stitch/servicerouter/slots"
	"github.com/stitchnfv/stitch/xdp"
)

// Dataplane is where the router programs its decisions; *xdp.Router and
// the userspace path implement it.
type Dataplane interface {
	SetVIP(ctx context.Context, v xdp.VIP, cfg xdp.VIPConfig) error
	DeleteVIP(ctx context.Context, v xdp.VIP) error
	SetBackend(ctx context.Context, index uint32, b xdp.Backend) error
	DeleteBackend(ctx context.Context, index uint32) error
	SwapTable(ctx context.Context, vipID uint32, table []uint32) error
	UpdateEntries(ctx context.Context, vipID uint32, entries map[uint32]uint32) error
	Counters(ctx context.Context) (xdp.Counters, error)
}

// ErrInvalid is wrapped by errors about bad service definitions.
var ErrInvalid = errors.New("servicerouter: invalid service")

// Instance is where a service's sessions may go: a local instance, or
// (as a service's Overflow) a remote domain's ingress.
type Instance struct {
	ID         string
	Addr       netip.Addr       // tunnel endpoint: the instance decapsulates
	NextHopMAC net.HardwareAddr // Ethernet next hop towards Addr
	Ifindex    int              // egress interface; 0: the ingress one
}

// Service is one service access point and its instances.
type Service struct {
	Name      string
	VIP       xdp.VIP
	Instances []Instance
	// Overflow takes new sessions when no local instance has a free slot
	// (a remote route); nil refuses them (TCP RST, see xdp).
	Overflow *Instance
	// ICMPUnreachable answers refused UDP with ICMP instead of dropping.
	ICMPUnreachable bool
}

// Router keeps the services' tables. It is safe for concurrent use.
type Router struct {
	dp     Dataplane
	params slots.Params
	size   int
	log    *slog.Logger

	mu       sync.Mutex
	services map[string]*service
	indexes  indexAllocator
	vipIDs   indexAllocator
}

type service struct {
	def       Service
	vipID     uint32
	instances map[string]*instance // by instance id
	draining  map[string]bool
	table     maglev.Table      // as programmed
	flows     map[uint32]uint64 // new-flow counters last seen, by backend index
}

type instance struct {
	def   Instance
	index uint32
	est   slots.Instance
}

// New returns a router programming dp. params is the headroom rule
// (slots.DefaultParams() unless tuned); tableSize a prime ≥ 65,537, the
// data plane's (xdp.RingSize).
func New(dp Dataplane, params slots.Params, tableSize int, log *slog.Logger) (*Router, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	if tableSize != xdp.RingSize {
		return nil, fmt.Errorf("%w: table size %d, the data plane uses %d", ErrInvalid, tableSize, xdp.RingSize)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Router{dp: dp, params: params, size: tableSize, log: log,
		services: map[string]*service{}, indexes: indexAllocator{max: xdp.MaxBackends}, vipIDs: indexAllocator{max: xdp.MaxVIPs}}, nil
}

// SetService creates or updates a service: its VIP, instances and
// overflow. Instances that stay keep their statistics and table entries;
// new ones get no session until they report free slots.
func (r *Router) SetService(ctx context.Context, s Service) error {
	if err := validService(s); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	svc := r.services[s.Name]
	if svc != nil && svc.def.VIP != s.VIP {
		return fmt.Errorf("%w: service %s: the VIP cannot change (delete the service first)", ErrInvalid, s.Name)
	}
	if svc == nil {
		id, ok := r.vipIDs.take()
		if !ok {
			return fmt.Errorf("servicerouter: no VIP id left (%d services)", xdp.MaxVIPs)
		}
		svc = &service{vipID: id, instances: map[string]*instance{}, draining: map[string]bool{}, flows: map[uint32]uint64{}}
		r.services[s.Name] = svc
	}
	svc.def = s
	keep := map[string]bool{}
	all := slices.Clone(s.Instances)
	if s.Overflow != nil {
		all = append(all, *s.Overflow)
	}
	for _, in := range all {
		keep[in.ID] = true
		cur := svc.instances[in.ID]
		if cur == nil {
			idx, ok := r.indexes.take()
			if !ok {
				return fmt.Errorf("servicerouter: no backend index left (%d instances)", xdp.MaxBackends)
			}
			cur = &instance{index: idx}
			svc.instances[in.ID] = cur
		}
		cur.def = in
		if err := r.dp.SetBackend(ctx, cur.index, xdp.Backend{Addr: in.Addr, NextHopMAC: in.NextHopMAC, Ifindex: in.Ifindex}); err != nil {
			return fmt.Errorf("service %s: instance %s: %w", s.Name, in.ID, err)
		}
	}
	cfg := xdp.VIPConfig{ID: svc.vipID, Fallback: xdp.NoBackend}
	if s.Overflow != nil {
		cfg.Fallback = svc.instances[s.Overflow.ID].index
	}
	if s.ICMPUnreachable {
		cfg.Flags |= xdp.VIPICMPUnreachable
	}
	if err := r.dp.SetVIP(ctx, s.VIP, cfg); err != nil {
		return fmt.Errorf("service %s: %w", s.Name, err)
	}
	// Instances gone: out of the table first, then their backend entries
	// (connections still pointing at them are re-placed by the table).
	var gone []uint32
	for id, in := range svc.instances {
		if !keep[id] {
			delete(svc.instances, id)
			delete(svc.draining, id)
			delete(svc.flows, in.index)
			gone = append(gone, in.index)
		}
	}
	if len(gone) > 0 {
		if err := r.rebuildService(ctx, svc, time.Now()); err != nil {
			return err
		}
		for _, idx := range gone {
			r.retire(ctx, idx)
		}
	}
	return nil
}

// DeleteService removes a service's VIP, table and backends.
func (r *Router) DeleteService(ctx context.Context, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	svc := r.services[name]
	if svc == nil {
		return nil
	}
	if err := r.dp.DeleteVIP(ctx, svc.def.VIP); err != nil {
		return fmt.Errorf("service %s: %w", name, err)
	}
	for _, in := range svc.instances {
		r.retire(ctx, in.index)
	}
	r.vipIDs.put(svc.vipID)
	delete(r.services, name)
	return nil
}

// retire deletes a backend and frees its index. r.mu held.
func (r *Router) retire(ctx context.Context, index uint32) {
	if err := r.dp.DeleteBackend(ctx, index); err != nil {
		r.log.Warn("deleting a backend failed", "index", index, "err", err)
	}
	r.indexes.put(index)
}

// Observe folds an instance's slot report in.
func (r *Router) Observe(serviceName, instanceID string, rep slots.Report) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	svc := r.services[serviceName]
	if svc == nil {
		return fmt.Errorf("%w: no service %q", ErrInvalid, serviceName)
	}
	in := svc.instances[instanceID]
	if in == nil {
		return fmt.Errorf("%w: service %s has no instance %q", ErrInvalid, serviceName, instanceID)
	}
	rep.Draining = rep.Draining || svc.draining[instanceID]
	return in.est.Observe(rep, r.params)
}

// Drain stops (or, with on false, resumes) new sessions to an instance;
// its established sessions keep their connection-table entries.
func (r *Router) Drain(serviceName, instanceID string, on bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	svc := r.services[serviceName]
	if svc == nil || svc.instances[instanceID] == nil {
		return fmt.Errorf("%w: no instance %q in service %q", ErrInvalid, instanceID, serviceName)
	}
	if on {
		svc.draining[instanceID] = true
	} else {
		delete(svc.draining, instanceID)
	}
	return nil
}

func validService(s Service) error {
	var errs []error
	if s.Name == "" {
		errs = append(errs, errors.New("no name"))
	}
	if !s.VIP.Addr.IsValid() || s.VIP.Port == 0 || (s.VIP.Proto != xdp.TCP && s.VIP.Proto != xdp.UDP) {
		errs = append(errs, fmt.Errorf("VIP %+v: want an address, a port and TCP or UDP", s.VIP))
	}
	seen := map[string]bool{}
	all := slices.Clone(s.Instances)
	if s.Overflow != nil {
		all = append(all, *s.Overflow)
	}
	for i, in := range all {
		switch {
		case in.ID == "":
			errs = append(errs, fmt.Errorf("instances[%d]: no id", i))
		case seen[in.ID]:
			errs = append(errs, fmt.Errorf("instances[%d]: duplicate id %q", i, in.ID))
		case !in.Addr.IsValid():
			errs = append(errs, fmt.Errorf("instance %s: no address", in.ID))
		case len(in.NextHopMAC) != 6:
			errs = append(errs, fmt.Errorf("instance %s: next-hop MAC %q", in.ID, in.NextHopMAC))
		}
		seen[in.ID] = true
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w %q: %w", ErrInvalid, s.Name, err)
	}
	return nil
}

// rebuildInterval bounds how stale a table is: the simulation
// (servicerouter/sim) found 20 ms rebuilds keep refusals under 1 %.
const rebuildInterval = 20 * time.Millisecond

// Run rebuilds every service's table every 20 ms until ctx ends.
func (r *Router) Run(ctx context.Context) {
	t := time.NewTicker(rebuildInterval)
	defer t.Stop()
	for {
		if err := r.Rebuild(ctx, time.Now()); err != nil && ctx.Err() == nil {
			r.log.Warn("service router rebuild failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

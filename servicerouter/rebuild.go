package servicerouter

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/stitchnfv/stitch/servicerouter/maglev"
	"github.com/stitchnfv/stitch/servicerouter/slots"
	"github.com/stitchnfv/stitch/xdp"
)

// Rebuild counts the sessions the data plane placed on each instance since
// the last rebuild (they take slots no report shows yet), recomputes every
// service's weights and programs what changed: the whole table atomically
// the first time, then only the entries that changed, in one batch.
func (r *Router) Rebuild(ctx context.Context, now time.Time) error {
	counters, err := r.dp.Counters(ctx)
	if err != nil {
		return fmt.Errorf("servicerouter: counters: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(r.services)) {
		svc := r.services[name]
		for _, in := range svc.instances {
			n := counters.Backends[in.index].NewFlows
			if prev, seen := svc.flows[in.index]; seen && n > prev {
				in.est.Sent(now, int(n-prev))
			}
			svc.flows[in.index] = n
		}
		if err := r.rebuildService(ctx, svc, now); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("servicerouter: %v", errs)
	}
	return nil
}

// rebuildService programs one service's table. r.mu held.
func (r *Router) rebuildService(ctx context.Context, svc *service, now time.Time) error {
	local := r.localInstances(svc)
	ests := make([]slots.Instance, len(local))
	for i, in := range local {
		ests[i] = in.est
	}
	weights, err := slots.Weights(ests, now, r.params)
	if err != nil {
		return err
	}
	backends := make([]maglev.Backend, len(local))
	for i, in := range local {
		w := weights[i]
		if svc.draining[in.def.ID] {
			w = 0
		}
		backends[i] = maglev.Backend{Index: in.index, Key: in.def.ID, Weight: w}
	}
	if svc.table == nil {
		t, err := maglev.Build(r.size, backends)
		if err != nil {
			return err
		}
		if err := r.dp.SwapTable(ctx, svc.vipID, t); err != nil {
			return fmt.Errorf("service %s: %w", svc.def.Name, err)
		}
		svc.table = t
		return nil
	}
	t, changed, err := maglev.Update(svc.table, backends)
	if err != nil {
		return err
	}
	if len(changed) == 0 {
		return nil
	}
	entries := make(map[uint32]uint32, len(changed))
	for _, pos := range changed {
		entries[pos] = t[pos]
	}
	if err := r.dp.UpdateEntries(ctx, svc.vipID, entries); err != nil {
		return fmt.Errorf("service %s: %w", svc.def.Name, err)
	}
	svc.table = t
	return nil
}

// localInstances are the service's own instances (not its overflow), in a
// stable order. r.mu held.
func (r *Router) localInstances(svc *service) []*instance {
	var out []*instance
	for id, in := range svc.instances {
		if svc.def.Overflow != nil && id == svc.def.Overflow.ID {
			continue
		}
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b *instance) int { return cmp.Compare(a.def.ID, b.def.ID) })
	return out
}

// InstanceView is one instance as the router sees it.
type InstanceView struct {
	ID       string
	Draining bool
	// Entries is the instance's share of the table; Estimate why.
	Entries  int
	Estimate slots.Estimate
	Counters xdp.FlowCounters
}

// ServiceView is one service as the router sees it: for the CLI and the
// metrics.
type ServiceView struct {
	Name      string
	VIP       xdp.VIP
	Instances []InstanceView
	Overflow  *InstanceView
	Counters  xdp.FlowCounters // the VIP's: packets, new flows, refused
}

// View reports every service, its instances' table shares, estimates and
// counters at time now.
func (r *Router) View(ctx context.Context, now time.Time) ([]ServiceView, error) {
	counters, err := r.dp.Counters(ctx)
	if err != nil {
		return nil, fmt.Errorf("servicerouter: counters: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ServiceView
	for _, name := range slices.Sorted(maps.Keys(r.services)) {
		svc := r.services[name]
		entries := maglev.Counts(svc.table)
		v := ServiceView{Name: name, VIP: svc.def.VIP, Counters: counters.VIPs[svc.vipID]}
		for _, in := range r.localInstances(svc) {
			v.Instances = append(v.Instances, InstanceView{ID: in.def.ID, Draining: svc.draining[in.def.ID],
				Entries: entries[in.index], Estimate: in.est.Estimate(now, r.params), Counters: counters.Backends[in.index]})
		}
		if o := svc.def.Overflow; o != nil {
			in := svc.instances[o.ID]
			v.Overflow = &InstanceView{ID: o.ID, Counters: counters.Backends[in.index]}
		}
		out = append(out, v)
	}
	return out, nil
}

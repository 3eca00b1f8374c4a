package nfvo

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/stitchnfv/stitch/internal/store"
)

// removeSurplus deletes instances that a scale-in or a heal left over,
// dependants first. Neighbours are told before an instance goes, so no new
// request is sent to it while it drains. A FAILED instance no operation
// asked to replace stays recorded: the monitor heals it.
func (o *Orchestrator) removeSurplus(ctx context.Context, ns NsInstance, p *plan, r *run, grace time.Duration) error {
	var gone []Vnfc
	err := o.store.Update(ctx, func(tx store.Tx) error {
		all, err := listVnfcs(tx, ns.ID)
		if err != nil {
			return err
		}
		gone = nil
		for _, v := range all {
			if v.State == VnfcDeleting || slices.Contains(ns.Desired.Replace, v.ID) {
				v.State = VnfcDeleting
				if err := store.PutJSON(tx, bucketVnfc, ns.ID+"/"+v.ID, v); err != nil {
					return err
				}
				gone = append(gone, v)
			}
		}
		return nil
	})
	if err != nil || len(gone) == 0 {
		return err
	}
	if err := o.refreshBindings(ctx, ns.ID, p); err != nil {
		return err
	}
	o.tellRouters(ctx, ns.ID)
	o.drain(ctx, r, gone)
	if err := o.deleteInLayers(ctx, ns.ID, p, gone, r, grace); err != nil {
		return err
	}
	return o.rewire(ctx, ns.ID, p)
}

// teardown removes every instance (dependants first) and then the NS's
// networks, including VIM resources tagged with the NS that no record owns.
func (o *Orchestrator) teardown(ctx context.Context, ns NsInstance, p *plan, r *run, grace time.Duration) error {
	var all []Vnfc
	err := o.store.Update(ctx, func(tx store.Tx) error {
		var err error
		if all, err = listVnfcs(tx, ns.ID); err != nil {
			return err
		}
		for i := range all {
			all[i].State = VnfcDeleting
			if err := store.PutJSON(tx, bucketVnfc, ns.ID+"/"+all[i].ID, all[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := o.deleteInLayers(ctx, ns.ID, p, all, r, grace); err != nil {
		return err
	}
	// Instances the VIM has for this NS but no record names (none, unless a
	// record was lost): remove them too, so nothing leaks.
	leftovers, err := o.vnfm.Instances(ctx, ns.ID)
	if err != nil {
		return err
	}
	for _, in := range leftovers {
		o.step(ctx, r.opID, "removing unrecorded instance %s", in.Name)
		if err := o.vnfm.Remove(ctx, in.Name, grace); err != nil {
			return err
		}
	}
	if err := o.unwire(ctx, ns.ID); err != nil {
		return err
	}
	start := time.Now()
	if err := o.vnfm.DeleteNetworks(ctx, ns.ID); err != nil {
		return err
	}
	r.addVIM(time.Since(start))
	o.step(ctx, r.opID, "removed %d instances and the virtual links", len(all))
	return nil
}

// deleteInLayers removes instances in reverse dependency order, each layer
// in parallel, and drops their records.
func (o *Orchestrator) deleteInLayers(ctx context.Context, nsID string, p *plan, gone []Vnfc, r *run, grace time.Duration) error {
	layerOf := map[string]int{}
	for i, layer := range p.layers {
		for _, prof := range layer {
			layerOf[prof] = i
		}
	}
	for i := len(p.layers) - 1; i >= -1; i-- {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var errs []error
		var slowest time.Duration
		for _, v := range gone {
			l, known := layerOf[v.Profile]
			if (known && l != i) || (!known && i != -1) {
				continue
			}
			wg.Go(func() {
				start := time.Now()
				err := o.removeVnfc(ctx, v, grace)
				mu.Lock()
				errs = append(errs, err)
				slowest = max(slowest, time.Since(start))
				mu.Unlock()
				if err == nil {
					o.step(ctx, r.opID, "%s removed from %s", v.ID, v.Site)
				}
			})
		}
		wg.Wait()
		r.addVIM(slowest)
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	return nil
}

func (o *Orchestrator) removeVnfc(ctx context.Context, v Vnfc, grace time.Duration) error {
	if err := o.vnfm.Remove(ctx, v.ID, grace); err != nil {
		return err
	}
	return o.store.Update(ctx, func(tx store.Tx) error {
		return tx.Delete(bucketVnfc, v.NsID+"/"+v.ID)
	})
}

package nfvo

import (
	"context"
	"errors"
	"fmt"

	"github.com/stitchnfv/stitch/internal/store"
	"github.com/stitchnfv/stitch/vim"
)

// sweep removes VIM resources tagged as stitch's that no record owns: an
// instance whose VNFC record is gone, or a network of an NS instance that is
// neither instantiated nor being operated on. It returns what it removed.
func (o *Orchestrator) sweep(ctx context.Context) ([]string, error) {
	insts, err := o.vnfm.Instances(ctx, "")
	if err != nil {
		return nil, err
	}
	nets, err := o.vnfm.Networks(ctx, "")
	if err != nil {
		return nil, err
	}
	records := map[string]bool{}
	nsExists := map[string]bool{}
	err = o.store.View(ctx, func(tx store.Tx) error {
		all, err := store.ListJSON[Vnfc](tx, bucketVnfc, "")
		if err != nil {
			return err
		}
		for _, v := range all {
			records[v.ID] = true
		}
		nss, err := store.ListJSON[NsInstance](tx, bucketNS, "")
		for _, ns := range nss {
			nsExists[ns.ID] = ns.Desired.Instantiated || ns.CurrentOp != ""
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, in := range insts {
		if records[in.Name] {
			continue
		}
		o.log.Warn("removing leaked instance", "instance", in.Name, "ns", in.Tags[vim.TagNSInstance])
		if err := o.vnfm.Remove(ctx, in.Name, o.cfg.DefaultGrace); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, "instance "+in.Name)
	}
	for _, n := range nets {
		if nsExists[n.Tags[vim.TagNSInstance]] {
			continue
		}
		o.log.Warn("removing leaked network", "network", n.Name)
		if err := o.vnfm.DeleteNetworks(ctx, n.Tags[vim.TagNSInstance]); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, "network "+n.Name)
	}
	gone, err := o.sweepWiring(ctx, nsExists)
	return append(removed, gone...), errors.Join(append(errs, err)...)
}

// sweepWiring removes SDN rows of NS instances that are neither
// instantiated nor being operated on (a terminate that crashed after its
// record was written, an NS deleted meanwhile).
func (o *Orchestrator) sweepWiring(ctx context.Context, nsExists map[string]bool) ([]string, error) {
	if o.cfg.Wiring == nil {
		return nil, nil
	}
	owners, err := o.cfg.Wiring.NSInstances(ctx)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, id := range owners {
		if nsExists[id] {
			continue
		}
		o.log.Warn("removing leaked OVN rows", "ns", id)
		if err := o.unwire(ctx, id); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, "OVN rows of NS instance "+id)
	}
	return removed, errors.Join(errs...)
}

// resyncWiring renders every instantiated NS that no operation holds, so
// that what changed in the SDN while the daemon was down (a row deleted by
// hand, a database restored from a backup) is put back at start. An NS
// with an operation is rendered when the operation resumes.
func (o *Orchestrator) resyncWiring(ctx context.Context) error {
	if o.cfg.Wiring == nil {
		return nil
	}
	type work struct {
		id string
		p  *plan
	}
	var todo []work
	err := o.store.View(ctx, func(tx store.Tx) error {
		nss, err := store.ListJSON[NsInstance](tx, bucketNS, "")
		for _, ns := range nss {
			if !ns.Desired.Instantiated || ns.CurrentOp != "" {
				continue
			}
			p, err := o.planOf(tx, ns, ns.FlavourID)
			if err != nil {
				return fmt.Errorf("NS instance %s: %w", ns.ID, err)
			}
			todo = append(todo, work{ns.ID, p})
		}
		return err
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, w := range todo {
		errs = append(errs, o.rewire(ctx, w.id, w.p))
	}
	return errors.Join(errs...)
}

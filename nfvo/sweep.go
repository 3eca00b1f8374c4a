package nfvo

import (
	"context"
	"errors"

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
	return removed, errors.Join(errs...)
}

package nfvo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stitchnfv/stitch/internal/store"
	"github.com/stitchnfv/stitch/vim"
)

// monitor watches the instances of every idle, instantiated NS and starts a
// heal operation when one has exited or vanished from the VIM.
func (o *Orchestrator) monitor(ctx context.Context) {
	t := time.NewTicker(o.cfg.MonitorInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := o.checkInstances(ctx); err != nil && ctx.Err() == nil {
			o.log.Warn("instance check failed", "err", err)
		}
	}
}

func (o *Orchestrator) checkInstances(ctx context.Context) error {
	nss, err := o.ListNS(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, ns := range nss {
		if ns.State != NsInstantiated || ns.CurrentOp != "" {
			continue
		}
		errs = append(errs, o.checkNS(ctx, ns.ID))
	}
	return errors.Join(errs...)
}

// checkNS marks failed instances and asks for a heal.
func (o *Orchestrator) checkNS(ctx context.Context, nsID string) error {
	insts, err := o.vnfm.Instances(ctx, nsID)
	if err != nil {
		return err
	}
	byName := map[string]vim.Instance{}
	for _, in := range insts {
		byName[in.Name] = in
	}
	var failed []string
	var causes []string
	err = o.store.Update(ctx, func(tx store.Tx) error {
		failed, causes = nil, nil
		vnfcs, err := listVnfcs(tx, nsID)
		if err != nil {
			return err
		}
		for _, v := range vnfcs {
			if v.State != VnfcHealthy {
				continue
			}
			in, ok := byName[v.ID]
			var cause string
			switch {
			case !ok:
				cause = fmt.Sprintf("instance %s is gone from the VIM", v.ID)
			case in.Status == vim.StatusExited || in.Status == vim.StatusError:
				cause = fmt.Sprintf("instance %s exited with code %d", v.ID, in.ExitCode)
			default:
				continue
			}
			v.State, v.LastError = VnfcFailed, cause
			if err := store.PutJSON(tx, bucketVnfc, nsID+"/"+v.ID, v); err != nil {
				return err
			}
			failed = append(failed, v.ID)
			causes = append(causes, cause)
		}
		if len(failed) > 0 {
			ns, err := getNS(tx, nsID)
			if err != nil {
				return err
			}
			ns.Status = "DEGRADED"
			return store.PutJSON(tx, bucketNS, nsID, ns)
		}
		return nil
	})
	if err != nil || len(failed) == 0 {
		return err
	}
	o.log.Warn("instances failed; healing", "ns", nsID, "instances", failed)
	_, err = o.heal(ctx, nsID, HealRequest{VnfcIDs: failed}, "automatic: "+causes[0], true)
	var busy *BusyError
	if errors.As(err, &busy) {
		return nil // the running operation's reconcile replaces them
	}
	return err
}

package nfvo

import (
	"cmp"
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
		if err := o.probeInstances(ctx, o.now()); err != nil && ctx.Err() == nil {
			o.log.Warn("health checks failed to run", "err", err)
		}
		if err := o.checkInstances(ctx); err != nil && ctx.Err() == nil {
			o.log.Warn("instance check failed", "err", err)
		}
		if err := o.refreshSlotTargets(ctx); err != nil && ctx.Err() == nil {
			o.log.Warn("listing the instances with session slots failed", "err", err)
		}
		if err := o.refreshTelemetryTargets(ctx); err != nil && ctx.Err() == nil {
			o.log.Warn("listing the instances to follow on telemetry failed", "err", err)
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

// checkNS marks instances that exited or vanished as FAILED and asks for a
// heal of every failed one. It is level-triggered: a FAILED instance whose
// heal could not start (the NS was busy, the daemon stopped) is healed at a
// later check.
func (o *Orchestrator) checkNS(ctx context.Context, nsID string) error {
	snapshot := o.now()
	insts, err := o.vnfm.Instances(ctx, nsID)
	if err != nil {
		return err
	}
	byName := map[string]vim.Instance{}
	for _, in := range insts {
		byName[in.Name] = in
	}
	silent := o.silentInstances(nsID, o.now())
	var failed []string
	var cause string
	err = o.store.Update(ctx, func(tx store.Tx) error {
		failed, cause = nil, ""
		ns, err := getNS(tx, nsID)
		if err != nil {
			return err
		}
		if ns.State != NsInstantiated || ns.CurrentOp != "" {
			return nil // an operation owns the instances now
		}
		vnfcs, err := listVnfcs(tx, nsID)
		if err != nil {
			return err
		}
		for _, v := range vnfcs {
			switch {
			case v.State == VnfcFailed:
				failed = append(failed, v.ID)
				cause = cmp.Or(cause, v.LastError)
			case v.State == VnfcHealthy && v.HealthyAt.Before(snapshot):
				// Only instances healthy before the VIM snapshot: a newer one
				// may simply be missing from it.
				reason := instanceFailure(v, byName)
				if reason == "" {
					reason = silent[v.ID]
				}
				if reason == "" {
					continue
				}
				v.State, v.LastError = VnfcFailed, reason
				if err := store.PutJSON(tx, bucketVnfc, nsID+"/"+v.ID, v); err != nil {
					return err
				}
				failed = append(failed, v.ID)
				cause = cmp.Or(cause, reason)
			}
		}
		if len(failed) == 0 || ns.Status == "DEGRADED" {
			return nil
		}
		ns.Status = "DEGRADED"
		return store.PutJSON(tx, bucketNS, nsID, ns)
	})
	if err != nil || len(failed) == 0 {
		return err
	}
	o.log.Warn("instances failed; healing", "ns", nsID, "instances", failed)
	_, err = o.heal(ctx, nsID, HealRequest{VnfcIDs: failed}, "automatic: "+cause, true)
	if _, busy := errors.AsType[*BusyError](err); busy {
		return nil // the next check heals them once the NS is idle
	}
	return err
}

// instanceFailure says why a healthy record's VIM instance failed, or "".
func instanceFailure(v Vnfc, byName map[string]vim.Instance) string {
	in, ok := byName[v.ID]
	switch {
	case !ok:
		return fmt.Sprintf("instance %s is gone from the VIM", v.ID)
	case in.Status == vim.StatusExited || in.Status == vim.StatusError:
		return fmt.Sprintf("instance %s exited with code %d", v.ID, in.ExitCode)
	}
	return ""
}

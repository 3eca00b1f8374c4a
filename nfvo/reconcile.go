package nfvo

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/stitchnfv/stitch/internal/store"
)

// process is the runner's entry: it advances the NS instance's current
// operation, if any, until it ends or fails.
func (o *Orchestrator) process(ctx context.Context, nsID string) {
	var op LcmOpOcc
	started := false
	err := o.store.Update(ctx, func(tx store.Tx) error {
		ns, err := getNS(tx, nsID)
		if err != nil || ns.CurrentOp == "" {
			return err
		}
		if op, err = getOp(tx, ns.CurrentOp); err != nil {
			return err
		}
		if started = op.OperationState == OpStarting; started {
			op.setState(OpProcessing, o.now())
			return store.PutJSON(tx, bucketOp, op.ID, op)
		}
		return nil
	})
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, ErrNotFound) {
			o.log.Error("loading work failed", "ns", nsID, "err", err)
		}
		return
	}
	if op.ID == "" || (op.OperationState != OpProcessing && op.OperationState != OpRollingBack) {
		return
	}
	if started {
		o.notify.opChanged(op)
	}
	r := &run{opID: op.ID, start: o.now()}
	err = o.reconcile(ctx, nsID, r)
	if ctx.Err() != nil {
		return // stopped or superseded; the next Start resumes it
	}
	o.finish(ctx, nsID, r, err)
}

// finish records the outcome of an operation, unless it was superseded
// meanwhile.
func (o *Orchestrator) finish(ctx context.Context, nsID string, r *run, runErr error) {
	var op LcmOpOcc
	superseded := false
	err := o.store.Update(ctx, func(tx store.Tx) error {
		ns, err := getNS(tx, nsID)
		if err != nil {
			return err
		}
		if op, err = getOp(tx, r.opID); err != nil {
			return err
		}
		if superseded = ns.CurrentOp != op.ID; superseded {
			return nil
		}
		now := o.now()
		total := now.Sub(r.start)
		op.Stats = &OpStats{
			DurationMs:     ms(total),
			VimMs:          ms(r.path.vim),
			InstanceWaitMs: ms(r.path.wait),
			OverheadMs:     ms(total - r.path.total()),
		}
		if runErr != nil {
			op.setState(OpFailedTemp, now)
			op.Error = problemFor(runErr)
			op.addStep(now, "failed: "+runErr.Error()+" — retry, rollback or fail the operation")
			ns.Status = "FAILED_TEMP"
		} else {
			if op.OperationState == OpRollingBack {
				op.setState(OpRolledBack, now)
			} else {
				op.setState(OpCompleted, now)
			}
			ns.CurrentOp = ""
			ns.Desired.Replace = nil
			if ns.Desired.Instantiated {
				ns.State, ns.Status = NsInstantiated, "HEALTHY"
			} else {
				ns.State, ns.Status = NsNotInstantiated, ""
			}
		}
		ns.UpdatedAt = now
		return putOpAndNS(tx, op, ns)
	})
	if err != nil {
		o.log.Error("recording the end of an operation failed", "op", r.opID, "err", err)
		return
	}
	if superseded {
		return
	}
	o.log.Info("operation ended", "op", op.ID, "type", op.LcmOperationType, "state", op.OperationState, "err", runErr)
	o.notify.opChanged(op)
	o.nsChanged()
}

func problemFor(err error) *Problem {
	p := &Problem{Status: http.StatusInternalServerError, Title: "Operation failed", Detail: err.Error()}
	switch {
	case errors.Is(err, ErrNotFound):
		p.Status = http.StatusNotFound
	case errors.Is(err, ErrInvalid):
		p.Status = http.StatusUnprocessableEntity
	case errors.Is(err, ErrState), errors.Is(err, ErrConflict):
		p.Status = http.StatusConflict
	}
	return p
}

// reconcile drives the instance's VNFCs and networks to its desired state.
// Each step is idempotent, so a retry or a restart resumes where it stopped.
func (o *Orchestrator) reconcile(ctx context.Context, nsID string, r *run) error {
	var ns NsInstance
	var p *plan
	var grace time.Duration
	err := o.store.View(ctx, func(tx store.Tx) error {
		var err error
		if ns, err = getNS(tx, nsID); err != nil {
			return err
		}
		if p, err = o.planOf(tx, ns, ns.FlavourID); err != nil {
			return err
		}
		grace = o.graceOf(tx, r.opID)
		return nil
	})
	if err != nil {
		return err
	}
	if !ns.Desired.Instantiated {
		return o.teardown(ctx, ns, p, r, grace)
	}
	start := time.Now()
	nets, err := o.ensureNetworks(ctx, ns, p, r)
	if err != nil {
		return err
	}
	r.addVIM(time.Since(start))
	if err := o.rewire(ctx, nsID, p); err != nil {
		return err
	}
	for i, layer := range p.layers {
		if err := o.reconcileLayer(ctx, ns, p, layer, nets, r); err != nil {
			return err
		}
		o.step(ctx, r.opID, "layer %d of %d ready: %v", i+1, len(p.layers), layer)
		if err := o.refreshBindings(ctx, ns.ID, p); err != nil {
			return err
		}
	}
	return o.removeSurplus(ctx, ns, p, r, grace)
}

// graceOf reads a terminate's graceful timeout.
func (o *Orchestrator) graceOf(tx store.Tx, opID string) time.Duration {
	op, err := getOp(tx, opID)
	if err != nil || op.LcmOperationType != OpTerminate {
		return o.cfg.DefaultGrace
	}
	var req TerminateRequest
	if err := json.Unmarshal(op.OperationParams, &req); err == nil && req.GracefulTerminationTimeout > 0 {
		return time.Duration(req.GracefulTerminationTimeout) * time.Second
	}
	return o.cfg.DefaultGrace
}

// reconcileLayer brings up the constituents of one dependency layer in
// parallel and returns when all are healthy or one failed.
func (o *Orchestrator) reconcileLayer(ctx context.Context, ns NsInstance, p *plan, layer []string, nets map[string]netInfo, r *run) error {
	var wg sync.WaitGroup
	errs := make([]error, len(layer))
	times := make([]timing, len(layer))
	for i, profile := range layer {
		wg.Go(func() {
			times[i], errs[i] = o.reconcileConstituent(ctx, ns, p, profile, nets, r)
		})
	}
	wg.Wait()
	t := slowest(times)
	r.mu.Lock()
	r.path.vim += t.vim
	r.path.wait += t.wait
	r.mu.Unlock()
	return errors.Join(errs...)
}

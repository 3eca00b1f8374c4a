package nfvo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stitchnfv/stitch/internal/store"
)

// maxSteps bounds the progress log kept per operation.
const maxSteps = 200

func (op *LcmOpOcc) setState(s OpState, now time.Time) {
	op.OperationState = s
	op.StateEnteredTime = now
	op.addStep(now, "state "+string(s))
}

func (op *LcmOpOcc) addStep(now time.Time, msg string) {
	if len(op.Steps) >= maxSteps {
		op.Steps = append(op.Steps[:0], op.Steps[len(op.Steps)-maxSteps/2:]...)
	}
	op.Steps = append(op.Steps, Step{At: now, Message: msg, State: op.OperationState})
}

func getOp(tx store.Tx, id string) (LcmOpOcc, error) {
	op, err := store.GetJSON[LcmOpOcc](tx, bucketOp, id)
	if errors.Is(err, store.ErrNotFound) {
		return op, fmt.Errorf("LCM operation occurrence %q: %w", id, ErrNotFound)
	}
	return op, err
}

// ListOps lists operation occurrences, of one NS instance when nsID is set.
func (o *Orchestrator) ListOps(ctx context.Context, nsID string) (out []LcmOpOcc, err error) {
	err = o.store.View(ctx, func(tx store.Tx) error {
		all, err := store.ListJSON[LcmOpOcc](tx, bucketOp, "")
		if err != nil {
			return err
		}
		for _, op := range all {
			if nsID == "" || op.NsInstanceID == nsID {
				out = append(out, op)
			}
		}
		return nil
	})
	return out, err
}

func (o *Orchestrator) GetOp(ctx context.Context, id string) (op LcmOpOcc, err error) {
	err = o.store.View(ctx, func(tx store.Tx) error {
		op, err = getOp(tx, id)
		return err
	})
	return op, err
}

// step appends a progress message to a running operation.
func (o *Orchestrator) step(ctx context.Context, opID, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	o.log.Info(msg, "op", opID)
	err := o.store.Update(ctx, func(tx store.Tx) error {
		op, err := getOp(tx, opID)
		if err != nil {
			return err
		}
		op.addStep(o.now(), msg)
		return store.PutJSON(tx, bucketOp, op.ID, op)
	})
	if err != nil && ctx.Err() == nil {
		o.log.Warn("recording step failed", "op", opID, "err", err)
	}
}

// transition moves a FAILED_TEMP operation on at the operator's request.
func (o *Orchestrator) transition(ctx context.Context, id string, to func(LcmOpOcc) OpState, apply func(*NsInstance, *LcmOpOcc) error) (LcmOpOcc, error) {
	var op LcmOpOcc
	err := o.store.Update(ctx, func(tx store.Tx) error {
		var err error
		if op, err = getOp(tx, id); err != nil {
			return err
		}
		if op.OperationState != OpFailedTemp {
			return fmt.Errorf("%w: operation %s is %s; only FAILED_TEMP operations can be retried, rolled back or failed", ErrState, op.ID, op.OperationState)
		}
		ns, err := getNS(tx, op.NsInstanceID)
		if err != nil {
			return err
		}
		now := o.now()
		op.setState(to(op), now)
		if err := apply(&ns, &op); err != nil {
			return err
		}
		ns.UpdatedAt = now
		return putOpAndNS(tx, op, ns)
	})
	if err != nil {
		return LcmOpOcc{}, err
	}
	o.notify.opChanged(op)
	if !op.OperationState.Final() {
		o.runner.kick(op.NsInstanceID)
	}
	return op, nil
}

// RetryOp resumes a FAILED_TEMP operation from where it failed: the
// reconciler skips what is already done. A failed rollback is retried as a
// rollback.
func (o *Orchestrator) RetryOp(ctx context.Context, id string) (LcmOpOcc, error) {
	next := func(op LcmOpOcc) OpState {
		if op.RollbackRequested {
			return OpRollingBack
		}
		return OpProcessing
	}
	return o.transition(ctx, id, next, func(ns *NsInstance, op *LcmOpOcc) error {
		op.Error = nil
		ns.Status = "PROCESSING"
		return nil
	})
}

// RollbackOp returns the NS instance to its desired state before the
// operation.
func (o *Orchestrator) RollbackOp(ctx context.Context, id string) (LcmOpOcc, error) {
	return o.transition(ctx, id, always(OpRollingBack), func(ns *NsInstance, op *LcmOpOcc) error {
		if op.LcmOperationType == OpTerminate {
			return fmt.Errorf("%w: a terminate cannot be rolled back; retry it", ErrState)
		}
		if op.Previous == nil {
			return fmt.Errorf("%w: operation %s recorded no previous state", ErrState, op.ID)
		}
		op.RollbackRequested = true
		gen := ns.Desired.Generation + 1
		ns.Desired = cloneDesired(*op.Previous)
		ns.Desired.Generation = gen
		ns.Status = "PROCESSING"
		return nil
	})
}

// FailOp gives up on a FAILED_TEMP operation, leaving the instance as it is
// and free for other operations.
func (o *Orchestrator) FailOp(ctx context.Context, id string) (LcmOpOcc, error) {
	return o.transition(ctx, id, always(OpFailed), func(ns *NsInstance, op *LcmOpOcc) error {
		ns.CurrentOp = ""
		ns.Status = "DEGRADED"
		return nil
	})
}

// putOpAndNS stores an operation and its NS instance together.
func putOpAndNS(tx store.Tx, op LcmOpOcc, ns NsInstance) error {
	if err := store.PutJSON(tx, bucketOp, op.ID, op); err != nil {
		return err
	}
	return store.PutJSON(tx, bucketNS, ns.ID, ns)
}

func always(s OpState) func(LcmOpOcc) OpState { return func(LcmOpOcc) OpState { return s } }

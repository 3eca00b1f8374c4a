package nfvo

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"

	"github.com/stitchnfv/stitch/internal/store"
)

// opRequest describes an operation to record and start.
type opRequest struct {
	nsID   string
	typ    OpType
	params any
	reason string
	auto   bool
	force  bool
	// mutate checks the instance's state and changes its desired state.
	mutate func(tx store.Tx, ns *NsInstance) error
}

// startOp records the operation occurrence and the new desired state in one
// transaction, before anything runs, then hands the instance to the
// reconciler. A second operation on a busy instance is refused, unless it is
// a forced terminate, which supersedes the running one.
func (o *Orchestrator) startOp(ctx context.Context, r opRequest) (LcmOpOcc, error) {
	params, err := json.Marshal(r.params)
	if err != nil {
		return LcmOpOcc{}, err
	}
	var op LcmOpOcc
	var superseded *LcmOpOcc
	err = o.store.Update(ctx, func(tx store.Tx) error {
		ns, err := getNS(tx, r.nsID)
		if err != nil {
			return err
		}
		now := o.now()
		if ns.CurrentOp != "" {
			running, err := store.GetJSON[LcmOpOcc](tx, bucketOp, ns.CurrentOp)
			if err != nil {
				return err
			}
			if !r.force {
				return &BusyError{NsID: ns.ID, OpID: running.ID, Type: running.LcmOperationType}
			}
			running.setState(OpFailed, now)
			running.Error = &Problem{Status: 409, Title: "Superseded", Detail: "superseded by a forced terminate"}
			if err := store.PutJSON(tx, bucketOp, running.ID, running); err != nil {
				return err
			}
			superseded = &running
			ns.CurrentOp = ""
		}
		prev := cloneDesired(ns.Desired)
		if err := r.mutate(tx, &ns); err != nil {
			return err
		}
		ns.Desired.Generation++
		op = LcmOpOcc{
			ID: uuid.NewString(), OperationState: OpStarting, StateEnteredTime: now, StartTime: now,
			NsInstanceID: ns.ID, LcmOperationType: r.typ, IsAutomaticInvocation: r.auto,
			OperationParams: params, Reason: r.reason, Previous: &prev,
		}
		op.addStep(now, fmt.Sprintf("%s requested: %s", r.typ, r.reason))
		ns.CurrentOp = op.ID
		ns.Status = "PROCESSING"
		ns.UpdatedAt = now
		return putOpAndNS(tx, op, ns)
	})
	if err != nil {
		return LcmOpOcc{}, err
	}
	if superseded != nil {
		o.notify.opChanged(*superseded)
		o.runner.interrupt(r.nsID)
	} else {
		o.runner.kick(r.nsID)
		o.nsChanged()
	}
	o.notify.opChanged(op)
	return op, nil
}

func cloneDesired(d Desired) Desired {
	d.Replicas = maps.Clone(d.Replicas)
	d.Replace = slices.Clone(d.Replace)
	return d
}

// Instantiate starts the NS instance's constituents with the flavour's
// initial instance counts.
func (o *Orchestrator) Instantiate(ctx context.Context, id string, req InstantiateRequest) (LcmOpOcc, error) {
	return o.startOp(ctx, opRequest{
		nsID: id, typ: OpInstantiate, params: req, reason: "operator request",
		mutate: func(tx store.Tx, ns *NsInstance) error {
			if ns.State != NsNotInstantiated {
				return fmt.Errorf("%w: NS instance %s is already %s", ErrState, ns.ID, ns.State)
			}
			p, err := o.planOf(tx, *ns, req.FlavourID)
			if err != nil {
				return err
			}
			ns.FlavourID = p.df.ID
			ns.Desired = Desired{Instantiated: true, Replicas: p.initialReplicas(), Generation: ns.Desired.Generation}
			return nil
		},
	})
}

// Scale adds or removes steps of a constituent's scaling aspect.
func (o *Orchestrator) Scale(ctx context.Context, id string, req ScaleRequest) (LcmOpOcc, error) {
	return o.scale(ctx, id, req, "operator request", false)
}

func (o *Orchestrator) scale(ctx context.Context, id string, req ScaleRequest, reason string, auto bool) (LcmOpOcc, error) {
	if req.ScaleType != "" && req.ScaleType != "SCALE_VNF" {
		return LcmOpOcc{}, fmt.Errorf("%w: scaleType %q is not supported (SCALE_VNF)", ErrInvalid, req.ScaleType)
	}
	d := req.ScaleVnfData
	if d.ScaleVnfType != "SCALE_OUT" && d.ScaleVnfType != "SCALE_IN" {
		return LcmOpOcc{}, fmt.Errorf("%w: scaleVnfData.scaleVnfType must be SCALE_OUT or SCALE_IN", ErrInvalid)
	}
	if d.NumberOfSteps < 0 {
		return LcmOpOcc{}, fmt.Errorf("%w: scaleVnfData.numberOfSteps must be positive", ErrInvalid)
	}
	if d.NumberOfSteps == 0 {
		d.NumberOfSteps = 1
	}
	return o.startOp(ctx, opRequest{
		nsID: id, typ: OpScale, params: req, reason: reason, auto: auto,
		mutate: func(tx store.Tx, ns *NsInstance) error {
			if ns.State != NsInstantiated {
				return fmt.Errorf("%w: NS instance %s is %s", ErrState, ns.ID, ns.State)
			}
			p, err := o.planOf(tx, *ns, ns.FlavourID)
			if err != nil {
				return err
			}
			replicas, err := p.scaled(ns.Desired.Replicas, d)
			if err != nil {
				return err
			}
			ns.Desired.Replicas = replicas
			return nil
		},
	})
}

// Heal replaces failed (or named) instances.
func (o *Orchestrator) Heal(ctx context.Context, id string, req HealRequest) (LcmOpOcc, error) {
	reason := "operator request"
	if req.Cause != "" {
		reason += ": " + req.Cause
	}
	return o.heal(ctx, id, req, reason, false)
}

func (o *Orchestrator) heal(ctx context.Context, id string, req HealRequest, reason string, auto bool) (LcmOpOcc, error) {
	return o.startOp(ctx, opRequest{
		nsID: id, typ: OpHeal, params: req, reason: reason, auto: auto,
		mutate: func(tx store.Tx, ns *NsInstance) error {
			if ns.State != NsInstantiated {
				return fmt.Errorf("%w: NS instance %s is %s", ErrState, ns.ID, ns.State)
			}
			vnfcs, err := listVnfcs(tx, ns.ID)
			if err != nil {
				return err
			}
			targets, err := healTargets(vnfcs, req)
			if err != nil {
				return err
			}
			ns.Desired.Replace = targets
			return nil
		},
	})
}

// healTargets picks the instances a heal request replaces: the named ones;
// else the failed ones of the profile (all of it when none failed); else
// every failed instance.
func healTargets(vnfcs []Vnfc, req HealRequest) ([]string, error) {
	byID := map[string]Vnfc{}
	for _, v := range vnfcs {
		byID[v.ID] = v
	}
	if len(req.VnfcIDs) > 0 {
		for _, id := range req.VnfcIDs {
			if _, ok := byID[id]; !ok {
				return nil, fmt.Errorf("%w: vnfcIds: no instance %q in this NS", ErrInvalid, id)
			}
		}
		return slices.Clone(req.VnfcIDs), nil
	}
	var failed, all []string
	for _, v := range vnfcs {
		if req.VnfProfileID != "" && v.Profile != req.VnfProfileID {
			continue
		}
		all = append(all, v.ID)
		if v.State == VnfcFailed {
			failed = append(failed, v.ID)
		}
	}
	switch {
	case len(failed) > 0:
		return failed, nil
	case req.VnfProfileID != "" && len(all) > 0:
		return all, nil
	case req.VnfProfileID != "":
		return nil, fmt.Errorf("%w: vnfProfileId %q has no instances", ErrInvalid, req.VnfProfileID)
	default:
		return nil, fmt.Errorf("%w: no failed instance to heal", ErrState)
	}
}

// Terminate stops every instance and removes the NS's networks. With Force
// it supersedes a running operation.
func (o *Orchestrator) Terminate(ctx context.Context, id string, req TerminateRequest) (LcmOpOcc, error) {
	if req.GracefulTerminationTimeout < 0 {
		return LcmOpOcc{}, fmt.Errorf("%w: gracefulTerminationTimeout must not be negative", ErrInvalid)
	}
	return o.startOp(ctx, opRequest{
		nsID: id, typ: OpTerminate, params: req, reason: "operator request", force: req.Force,
		mutate: func(tx store.Tx, ns *NsInstance) error {
			vnfcs, err := listVnfcs(tx, ns.ID)
			if err != nil {
				return err
			}
			if ns.State != NsInstantiated && len(vnfcs) == 0 && !ns.Desired.Instantiated {
				return fmt.Errorf("%w: NS instance %s is %s", ErrState, ns.ID, ns.State)
			}
			ns.Desired = Desired{Generation: ns.Desired.Generation}
			return nil
		},
	})
}

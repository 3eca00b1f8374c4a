package nfvo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/stitchnfv/stitch/internal/store"
)

// CreateNS creates an NS instance (NOT_INSTANTIATED) of an onboarded NSD and
// pins the VNFD versions it will run.
func (o *Orchestrator) CreateNS(ctx context.Context, req CreateNsRequest) (NsInstance, error) {
	if strings.TrimSpace(req.NsdID) == "" {
		return NsInstance{}, fmt.Errorf("%w: nsdId is required", ErrInvalid)
	}
	if strings.TrimSpace(req.Name) == "" {
		return NsInstance{}, fmt.Errorf("%w: nsName is required", ErrInvalid)
	}
	var ns NsInstance
	err := o.store.Update(ctx, func(tx store.Tx) error {
		ref := req.NsdID
		if req.NsdVersion != "" {
			ref = req.NsdID + ":" + req.NsdVersion
		}
		nsd, err := getNSD(tx, ref)
		if err != nil {
			return err
		}
		pins := map[string]string{}
		for _, id := range nsd.VnfdIDs {
			v, err := latestVNFD(tx, id)
			if err != nil {
				return fmt.Errorf("%w: NSD %s needs VNFD %s, which is not onboarded", ErrState, nsd.ID, id)
			}
			pins[id] = v.Version
		}
		now := o.now()
		ns = NsInstance{
			ID: uuid.NewString(), Name: req.Name, Description: req.Description,
			NsdID: nsd.NsdID, NsdVersion: nsd.Version, State: NsNotInstantiated,
			VnfdVersions: pins, CreatedAt: now, UpdatedAt: now,
		}
		return store.PutJSON(tx, bucketNS, ns.ID, ns)
	})
	return ns, err
}

func getNS(tx store.Tx, id string) (NsInstance, error) {
	ns, err := store.GetJSON[NsInstance](tx, bucketNS, id)
	if errors.Is(err, store.ErrNotFound) {
		return ns, fmt.Errorf("NS instance %q: %w", id, ErrNotFound)
	}
	return ns, err
}

func listVnfcs(tx store.Tx, nsID string) ([]Vnfc, error) {
	return store.ListJSON[Vnfc](tx, bucketVnfc, nsID+"/")
}

// ListNS lists NS instances without their VNFCs.
func (o *Orchestrator) ListNS(ctx context.Context) (out []NsInstance, err error) {
	err = o.store.View(ctx, func(tx store.Tx) error {
		out, err = store.ListJSON[NsInstance](tx, bucketNS, "")
		return err
	})
	return out, err
}

// GetNS returns an NS instance with its VNFCs.
func (o *Orchestrator) GetNS(ctx context.Context, id string) (ns NsInstance, err error) {
	err = o.store.View(ctx, func(tx store.Tx) error {
		if ns, err = getNS(tx, id); err != nil {
			return err
		}
		ns.Vnfcs, err = listVnfcs(tx, id)
		return err
	})
	return ns, err
}

// DeleteNS removes an NS instance that is not instantiated.
func (o *Orchestrator) DeleteNS(ctx context.Context, id string) error {
	return o.store.Update(ctx, func(tx store.Tx) error {
		ns, err := getNS(tx, id)
		if err != nil {
			return err
		}
		if ns.CurrentOp != "" {
			return &BusyError{NsID: ns.ID, OpID: ns.CurrentOp, Type: opType(tx, ns.CurrentOp)}
		}
		if ns.State != NsNotInstantiated || ns.Desired.Instantiated {
			// A failed instantiation may have left virtual links behind.
			return fmt.Errorf("%w: NS instance %s is %s (desired: instantiated=%t); terminate it first",
				ErrState, ns.ID, ns.State, ns.Desired.Instantiated)
		}
		vnfcs, err := listVnfcs(tx, id)
		if err != nil {
			return err
		}
		if len(vnfcs) > 0 {
			return fmt.Errorf("%w: NS instance %s still has %d instances; terminate it first", ErrState, ns.ID, len(vnfcs))
		}
		return tx.Delete(bucketNS, id)
	})
}

func opType(tx store.Tx, opID string) OpType {
	op, err := store.GetJSON[LcmOpOcc](tx, bucketOp, opID)
	if err != nil {
		return ""
	}
	return op.LcmOperationType
}

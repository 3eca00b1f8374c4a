package nfvo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/stitchnfv/stitch/descriptors"
	"github.com/stitchnfv/stitch/internal/store"
)

// slotReportFresh bounds the age of the slot reports a policy decides on.
const slotReportFresh = 2 * time.Second

// MetricSource supplies the latest value of a monitoring parameter of an
// NS instance's constituent (the VNFM's telemetry); nil means only
// free-slots-ratio policies have values.
type MetricSource interface {
	Metric(ctx context.Context, nsID, profile, metric string) (float64, bool)
}

// RunAutoscaler evaluates the scaling policies of every idle, instantiated
// NS instance every interval and starts a SCALE operation (automatic, with
// the reason) when a policy's condition has held for its duration, outside
// its cooldown and within its instance bounds.
func (o *Orchestrator) RunAutoscaler(ctx context.Context, interval time.Duration) {
	paced(ctx, interval, func() {
		nss, err := o.ListNS(ctx)
		if err != nil {
			o.log.Warn("autoscaler: listing NS instances", "err", err)
			return
		}
		for _, ns := range nss {
			if ns.State != NsInstantiated || ns.CurrentOp != "" || !ns.Desired.Instantiated {
				continue
			}
			if p := o.plans.get(planKey(ns, ns.FlavourID)); p != nil && len(p.df.ScalingPolicies) == 0 {
				continue // nothing to evaluate, known without reading the store again
			}
			if err := o.autoscale(ctx, ns.ID); err != nil && ctx.Err() == nil {
				o.log.Warn("autoscaler", "ns", ns.ID, "err", err)
			}
		}
	})
}

// autoscale acts on the first policy of an NS instance that asks for a
// change.
func (o *Orchestrator) autoscale(ctx context.Context, nsID string) error {
	statuses, fire, err := o.evaluatePolicies(ctx, nsID, o.now())
	if err != nil || fire == nil {
		return err
	}
	st := statuses[fire.index]
	kind := "SCALE_OUT"
	if fire.dir < 0 {
		kind = "SCALE_IN"
	}
	_, err = o.scale(ctx, nsID, ScaleRequest{ScaleType: "SCALE_VNF", ScaleVnfData: ScaleVnfData{
		VnfProfileID: st.VnfProfileID, ScaleVnfType: kind, AspectID: st.AspectID, NumberOfSteps: 1,
	}}, "automatic: "+fire.reason, true)
	if _, busy := errors.AsType[*BusyError](err); busy {
		return nil // an operator's operation came first; re-evaluated later
	}
	o.scaler.reset(nsID, st.ID)
	return err
}

// firing is a policy that asks for a change now.
type firing struct {
	index  int // into the statuses
	dir    int
	reason string
}

// ScalingPolicies evaluates an NS instance's scaling policies now, without
// acting on them.
func (o *Orchestrator) ScalingPolicies(ctx context.Context, nsID string) ([]PolicyStatus, error) {
	if _, err := o.GetNS(ctx, nsID); err != nil {
		return nil, err
	}
	statuses, _, err := o.evaluatePolicies(ctx, nsID, o.now())
	return statuses, err
}

// evaluatePolicies computes every policy's status at now and the first one
// to fire, if any.
func (o *Orchestrator) evaluatePolicies(ctx context.Context, nsID string, now time.Time) ([]PolicyStatus, *firing, error) {
	var ns NsInstance
	var p *plan
	var vnfcs []Vnfc
	err := o.store.View(ctx, func(tx store.Tx) error {
		var err error
		if ns, err = getNS(tx, nsID); err != nil {
			return err
		}
		if !ns.Desired.Instantiated {
			return nil
		}
		if p, err = o.planOf(tx, ns, ns.FlavourID); err != nil || len(p.df.ScalingPolicies) == 0 {
			return err
		}
		vnfcs, err = listVnfcs(tx, nsID)
		return err
	})
	if err != nil || p == nil || len(p.df.ScalingPolicies) == 0 {
		return []PolicyStatus{}, nil, err
	}
	// The operations are read only when a policy's cooldown matters: the
	// bucket holds every NS's operations.
	ops := sync.OnceValues(func() ([]LcmOpOcc, error) { return o.scaleOps(ctx, nsID) })
	reports := o.slotReportsByVnfc(nsID)
	out := make([]PolicyStatus, 0, len(p.df.ScalingPolicies))
	var fire *firing
	for _, sp := range p.df.ScalingPolicies {
		eff, changed := effective(sp, ns.PolicyOverrides[sp.ID])
		st := PolicyStatus{ID: sp.ID, VnfProfileID: sp.VnfProfileID, AspectID: sp.AspectID, Metric: sp.Metric,
			Comparison: eff.Comparison, Threshold: eff.Threshold, Band: eff.Band, Duration: eff.Duration, Cooldown: eff.Cooldown,
			MinInstances: max(eff.MinInstances, 1), MaxInstances: eff.MaxInstances, Overridden: changed}
		st.Instances = countLive(vnfcs, sp.VnfProfileID)
		value, ok := o.metricValue(ctx, nsID, eff, vnfcs, reports, now)
		if ok {
			st.Value = &value
		}
		dir, why := o.judge(eff, st, value, ok)
		f := o.decide(nsID, &st, dir, why, ops, p, ns, now)
		if f != nil && fire == nil {
			f.index = len(out)
			fire = f
		}
		out = append(out, st)
	}
	return out, fire, nil
}

// judge says which way a policy pushes (+1 out, -1 in, 0 neither) and why.
// A threshold policy with comparison gt scales out while the metric is
// above the threshold; one with lt scales in while it is below: a pair
// of them is the usual out/in couple. A free-slots-ratio policy scales out
// below its band and in above it.
func (o *Orchestrator) judge(sp descriptors.ScalingPolicy, st PolicyStatus, v float64, ok bool) (int, string) {
	switch {
	case !ok:
		return 0, fmt.Sprintf("no value of %s yet", sp.Metric)
	case sp.Band != nil && v < sp.Band.Low:
		return 1, fmt.Sprintf("%s %.2f below %.2f", sp.Metric, v, sp.Band.Low)
	case sp.Band != nil && v > sp.Band.High:
		return -1, fmt.Sprintf("%s %.2f above %.2f", sp.Metric, v, sp.Band.High)
	case sp.Band != nil:
		return 0, fmt.Sprintf("%s %.2f within [%.2f, %.2f]", sp.Metric, v, sp.Band.Low, sp.Band.High)
	case sp.Comparison == descriptors.ComparisonGreater && v > sp.Threshold:
		return 1, fmt.Sprintf("%s %g above %g", sp.Metric, v, sp.Threshold)
	case sp.Comparison == descriptors.ComparisonLess && v < sp.Threshold:
		return -1, fmt.Sprintf("%s %g below %g", sp.Metric, v, sp.Threshold)
	}
	return 0, fmt.Sprintf("%s %g: threshold %s %g not crossed", sp.Metric, v, sp.Comparison, sp.Threshold)
}

// decide applies bounds, the hold duration and the cooldown to a policy's
// push, fills its verdict and returns it when it fires.
func (o *Orchestrator) decide(nsID string, st *PolicyStatus, dir int, why string, ops func() ([]LcmOpOcc, error), p *plan, ns NsInstance, now time.Time) *firing {
	switch {
	case dir > 0 && st.MaxInstances > 0 && st.Instances >= st.MaxInstances:
		dir, why = 0, why+fmt.Sprintf("; at its maximum of %d instances", st.MaxInstances)
	case dir < 0 && st.Instances <= st.MinInstances:
		dir, why = 0, why+fmt.Sprintf("; at its minimum of %d instances", st.MinInstances)
	case dir != 0 && !withinAspect(p, ns, *st, dir):
		dir, why = 0, why+"; the scaling aspect's bounds are reached"
	}
	since := o.scaler.observe(nsID, st.ID, dir, now)
	if dir == 0 {
		st.Verdict = why
		return nil
	}
	st.Since = since
	verb := map[int]string{1: "scale out", -1: "scale in"}[dir]
	held := now.Sub(since)
	if wait := st.Duration.Std() - held; wait > 0 {
		st.Verdict = fmt.Sprintf("%s in %s if it holds (%s)", verb, wait.Round(time.Millisecond), why)
		return nil
	}
	scales, err := ops()
	if err != nil {
		st.Verdict = fmt.Sprintf("%s, once the operations can be read (%v)", verb, err)
		return nil
	}
	if left := lastScale(scales, st.VnfProfileID).Add(st.Cooldown.Std()).Sub(now); left > 0 {
		st.Verdict = fmt.Sprintf("%s after the cooldown, %s left (%s)", verb, left.Round(time.Millisecond), why)
		return nil
	}
	st.Verdict = fmt.Sprintf("%s now (%s)", verb, why)
	return &firing{dir: dir, reason: fmt.Sprintf("policy %s: %s for %s", st.ID, why, held.Round(time.Millisecond))}
}

// scaleOps lists an NS instance's SCALE operations.
func (o *Orchestrator) scaleOps(ctx context.Context, nsID string) (out []LcmOpOcc, err error) {
	err = o.store.View(ctx, func(tx store.Tx) error {
		all, err := store.ListJSON[LcmOpOcc](tx, bucketOp, "")
		for _, op := range all {
			if op.NsInstanceID == nsID && op.LcmOperationType == OpScale {
				out = append(out, op)
			}
		}
		return err
	})
	return out, err
}

// withinAspect reports whether one step of the policy's aspect stays
// within the constituent's bounds.
func withinAspect(p *plan, ns NsInstance, st PolicyStatus, dir int) bool {
	kind := "SCALE_OUT"
	if dir < 0 {
		kind = "SCALE_IN"
	}
	_, err := p.scaled(ns.Desired.Replicas, ScaleVnfData{VnfProfileID: st.VnfProfileID, ScaleVnfType: kind, AspectID: st.AspectID, NumberOfSteps: 1})
	return err == nil
}

// lastScale is when the last SCALE operation of a constituent ended (or
// started, while it runs): cooldowns count from there, whoever started it.
func lastScale(ops []LcmOpOcc, profile string) time.Time {
	var last time.Time
	for _, op := range ops {
		var req ScaleRequest
		if json.Unmarshal(op.OperationParams, &req) != nil || req.ScaleVnfData.VnfProfileID != profile {
			continue
		}
		at := op.StateEnteredTime
		if !op.OperationState.Final() {
			at = time.Now()
		}
		if at.After(last) {
			last = at
		}
	}
	return last
}

// metricValue is a policy's metric now. free-slots-ratio is the free
// slots over all slots of the constituent's healthy instances, from
// reports younger than slotReportFresh; others come from the MetricSource.
func (o *Orchestrator) metricValue(ctx context.Context, nsID string, sp descriptors.ScalingPolicy, vnfcs []Vnfc, reports map[string]SlotReport, now time.Time) (float64, bool) {
	if sp.Metric != descriptors.MetricFreeSlotsRatio {
		if o.cfg.Metrics == nil {
			return 0, false
		}
		return o.cfg.Metrics.Metric(ctx, nsID, sp.VnfProfileID, sp.Metric)
	}
	var free, total int
	for _, v := range vnfcs {
		r, ok := reports[v.ID]
		if v.Profile != sp.VnfProfileID || v.State != VnfcHealthy || !ok || r.Error != "" || now.Sub(r.ReportedAt) > slotReportFresh {
			continue
		}
		free += r.Available
		total += r.Max
	}
	if total == 0 {
		return 0, false
	}
	return float64(free) / float64(total), true
}

func countLive(vnfcs []Vnfc, profile string) int {
	return len(slices.DeleteFunc(slices.Clone(vnfcs), func(v Vnfc) bool {
		return v.Profile != profile || v.State == VnfcDeleting
	}))
}

// observe records a policy's push and returns since when it has held.
func (s *scaler) observe(nsID, policy string, dir int, now time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := nsID + "/" + policy
	if dir == 0 {
		delete(s.holds, key)
		return time.Time{}
	}
	h, ok := s.holds[key]
	if !ok || h.dir != dir {
		h = hold{dir: dir, since: now}
		s.holds[key] = h
	}
	return h.since
}

// reset restarts a policy's hold after it fired: the next change must
// hold for its whole duration again.
func (s *scaler) reset(nsID, policy string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.holds, nsID+"/"+policy)
}

// UpdatePolicy changes a scaling policy of a running NS instance (its
// threshold or band, duration, cooldown, instance bounds) without
// redeploying it; the change is recorded with the NS instance and applies
// from the next evaluation.
func (o *Orchestrator) UpdatePolicy(ctx context.Context, nsID, policyID string, upd PolicyUpdate) (PolicyStatus, error) {
	err := o.store.Update(ctx, func(tx store.Tx) error {
		ns, err := getNS(tx, nsID)
		if err != nil {
			return err
		}
		p, err := o.planOf(tx, ns, ns.FlavourID)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(p.df.ScalingPolicies, func(sp descriptors.ScalingPolicy) bool { return sp.ID == policyID })
		if i < 0 {
			return fmt.Errorf("%w: NS instance %s has no scaling policy %q", ErrNotFound, nsID, policyID)
		}
		merged, err := upd.merge(ns.PolicyOverrides[policyID], p.df.ScalingPolicies[i])
		if err != nil {
			return err
		}
		if ns.PolicyOverrides == nil {
			ns.PolicyOverrides = map[string]PolicyUpdate{}
		}
		ns.PolicyOverrides[policyID] = merged
		ns.UpdatedAt = o.now()
		return store.PutJSON(tx, bucketNS, nsID, ns)
	})
	if err != nil {
		return PolicyStatus{}, err
	}
	all, err := o.ScalingPolicies(ctx, nsID)
	if err != nil {
		return PolicyStatus{}, err
	}
	for _, st := range all {
		if st.ID == policyID {
			return st, nil
		}
	}
	return PolicyStatus{}, fmt.Errorf("%w: scaling policy %q of NS instance %s is not evaluated (not instantiated)", ErrState, policyID, nsID)
}

package nfvo

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/descriptors"
)

func TestJudge(t *testing.T) {
	band := descriptors.ScalingPolicy{Metric: descriptors.MetricFreeSlotsRatio, Band: &descriptors.Band{Low: 0.2, High: 0.8}}
	gt := descriptors.ScalingPolicy{Metric: "rps", Comparison: descriptors.ComparisonGreater, Threshold: 100}
	lt := descriptors.ScalingPolicy{Metric: "rps", Comparison: descriptors.ComparisonLess, Threshold: 10}
	o := &Orchestrator{}
	for _, tc := range []struct {
		name string
		sp   descriptors.ScalingPolicy
		v    float64
		ok   bool
		want int
	}{
		{"no value", band, 0, false, 0},
		{"below band", band, 0.1, true, 1},
		{"above band", band, 0.9, true, -1},
		{"within band", band, 0.5, true, 0},
		{"on the low edge", band, 0.2, true, 0},
		{"gt crossed", gt, 150, true, 1},
		{"gt not crossed", gt, 50, true, 0},
		{"lt crossed", lt, 5, true, -1},
		{"lt not crossed", lt, 50, true, 0},
	} {
		if got, why := o.judge(tc.sp, PolicyStatus{}, tc.v, tc.ok); got != tc.want || why == "" {
			t.Errorf("%s: judge = %d (%q), want %d", tc.name, got, why, tc.want)
		}
	}
}

// TestDecideHoldsCooldownAndBounds: a push fires only once it has held
// for the policy's duration, outside the cooldown that counts from the
// constituent's last SCALE operation, and within its instance bounds.
func TestDecideHoldsCooldownAndBounds(t *testing.T) {
	ns, p := examplePlan(t)
	ns.Desired.Replicas = p.initialReplicas()
	o := &Orchestrator{scaler: scaler{holds: map[string]hold{}}}
	t0 := time.Unix(10000, 0)
	status := func(instances int) *PolicyStatus {
		return &PolicyStatus{ID: "p", VnfProfileID: "backend", AspectID: "backend-scale", MinInstances: 1, MaxInstances: 5,
			Instances: instances, Duration: descriptors.Duration(2 * time.Second), Cooldown: descriptors.Duration(30 * time.Second)}
	}
	params, _ := json.Marshal(ScaleRequest{ScaleVnfData: ScaleVnfData{VnfProfileID: "backend"}})
	recentOps := []LcmOpOcc{{OperationState: OpCompleted, StateEnteredTime: t0.Add(-10 * time.Second), OperationParams: params}}
	recent := func() ([]LcmOpOcc, error) { return recentOps, nil }
	none := func() ([]LcmOpOcc, error) { return nil, nil }

	st := status(3)
	if f := o.decide(ns.ID, st, 1, "low", none, p, ns, t0); f != nil || !strings.Contains(st.Verdict, "scale out in 2s") {
		t.Fatalf("at once: %+v, verdict %q", f, st.Verdict)
	}
	st = status(3)
	if f := o.decide(ns.ID, st, 1, "low", none, p, ns, t0.Add(2*time.Second)); f == nil || f.dir != 1 || !strings.Contains(f.reason, "policy p: low for 2s") {
		t.Fatalf("after the duration: %+v, verdict %q", f, st.Verdict)
	}
	st = status(3)
	if f := o.decide(ns.ID, st, 1, "low", recent, p, ns, t0.Add(3*time.Second)); f != nil || !strings.Contains(st.Verdict, "after the cooldown, 17s left") {
		t.Fatalf("within the cooldown: %+v, verdict %q", f, st.Verdict)
	}
	st = status(5)
	if f := o.decide(ns.ID, st, 1, "low", none, p, ns, t0.Add(4*time.Second)); f != nil || !strings.Contains(st.Verdict, "at its maximum of 5") {
		t.Fatalf("at the maximum: %+v, verdict %q", f, st.Verdict)
	}
	// The hold was dropped at the maximum: a push starts over.
	st = status(3)
	if f := o.decide(ns.ID, st, 1, "low", none, p, ns, t0.Add(5*time.Second)); f != nil {
		t.Fatalf("a push that was interrupted fired at once: %+v", f)
	}
	st = status(1)
	if f := o.decide(ns.ID, st, -1, "high", none, p, ns, t0.Add(9*time.Second)); f != nil || !strings.Contains(st.Verdict, "at its minimum of 1") {
		t.Fatalf("at the minimum: %+v, verdict %q", f, st.Verdict)
	}
}

func TestPolicyUpdateMerge(t *testing.T) {
	band := descriptors.ScalingPolicy{ID: "b", Metric: descriptors.MetricFreeSlotsRatio, Band: &descriptors.Band{Low: 0.2, High: 0.8}, MinInstances: 1, MaxInstances: 4}
	five := descriptors.Duration(5 * time.Second)
	neg := descriptors.Duration(-time.Second)
	thr := 3.0
	two, one := 2, 1
	for _, tc := range []struct {
		name    string
		prev    PolicyUpdate
		upd     PolicyUpdate
		wantErr string
		check   func(descriptors.ScalingPolicy) bool
	}{
		{"cooldown", PolicyUpdate{}, PolicyUpdate{Cooldown: &five}, "", func(sp descriptors.ScalingPolicy) bool { return sp.Cooldown == five }},
		{"keeps earlier changes", PolicyUpdate{Cooldown: &five}, PolicyUpdate{MaxInstances: &two},
			"", func(sp descriptors.ScalingPolicy) bool { return sp.Cooldown == five && sp.MaxInstances == 2 }},
		{"inverted band", PolicyUpdate{}, PolicyUpdate{Band: &descriptors.Band{Low: 0.9, High: 0.1}}, "band: need 0 <= low < high", nil},
		{"threshold on a band policy", PolicyUpdate{}, PolicyUpdate{Threshold: &thr}, "threshold: a free-slots-ratio policy", nil},
		{"negative duration", PolicyUpdate{}, PolicyUpdate{Duration: &neg}, "duration: must not be negative", nil},
		{"max below min", PolicyUpdate{MinInstances: &two}, PolicyUpdate{MaxInstances: &one}, "maxInstances: 1 is below minInstances 2", nil},
	} {
		got, err := tc.upd.merge(tc.prev, band)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err = %v, want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if eff, _ := effective(band, got); err != nil || !tc.check(eff) {
			t.Errorf("%s: %+v, %v", tc.name, eff, err)
		}
	}
}

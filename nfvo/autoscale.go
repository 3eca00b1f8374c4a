package nfvo

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/stitchnfv/stitch/descriptors"
)

// PolicyStatus is a scaling policy of an NS instance as it stands: its
// parameters (the descriptor's, with the operator's run-time changes) and
// what the autoscaler makes of it now, as GET
// /nslcm/v1/ns_instances/{id}/scaling_policies shows it.
type PolicyStatus struct {
	ID           string               `json:"id"`
	VnfProfileID string               `json:"vnfProfileId"`
	AspectID     string               `json:"aspectId"`
	Metric       string               `json:"metric"`
	Comparison   string               `json:"comparison,omitempty"`
	Threshold    float64              `json:"threshold,omitempty"`
	Band         *descriptors.Band    `json:"band,omitempty"`
	Duration     descriptors.Duration `json:"duration"`
	Cooldown     descriptors.Duration `json:"cooldown"`
	MinInstances int                  `json:"minInstances"`
	MaxInstances int                  `json:"maxInstances,omitempty"`
	// Overridden lists the parameters an operator changed at run time.
	Overridden []string `json:"overridden,omitempty"`
	// Instances counts the constituent's instances now.
	Instances int `json:"instances"`
	// Value is the metric's last value, when there is one.
	Value *float64 `json:"value,omitempty"`
	// Verdict says what the policy asks for and why it waits, if it does.
	Verdict string `json:"verdict"`
	// Since is when the current out-of-bounds condition started to hold.
	Since time.Time `json:"since,omitzero"`
}

// PolicyUpdate changes a scaling policy of a running NS instance; absent
// fields keep their value. It takes effect at the next evaluation.
type PolicyUpdate struct {
	Threshold    *float64              `json:"threshold,omitempty"`
	Band         *descriptors.Band     `json:"band,omitempty"`
	Duration     *descriptors.Duration `json:"duration,omitempty"`
	Cooldown     *descriptors.Duration `json:"cooldown,omitempty"`
	MinInstances *int                  `json:"minInstances,omitempty"`
	MaxInstances *int                  `json:"maxInstances,omitempty"`
}

// scaler is the autoscaler's memory between evaluations: since when each
// policy's condition holds. It is rebuilt from nothing after a restart
// (a condition must then hold for its whole duration again); cooldowns
// come from the recorded operations, so they survive.
type scaler struct {
	mu    sync.Mutex
	holds map[string]hold // by "<ns>/<policy>"
}

type hold struct {
	dir   int // +1 out, -1 in
	since time.Time
}

// effective applies an NS instance's run-time changes to a descriptor
// policy.
func effective(sp descriptors.ScalingPolicy, upd PolicyUpdate) (descriptors.ScalingPolicy, []string) {
	var changed []string
	if upd.Threshold != nil {
		sp.Threshold, changed = *upd.Threshold, append(changed, "threshold")
	}
	if upd.Band != nil {
		b := *upd.Band
		sp.Band, changed = &b, append(changed, "band")
	}
	if upd.Duration != nil {
		sp.Duration, changed = *upd.Duration, append(changed, "duration")
	}
	if upd.Cooldown != nil {
		sp.Cooldown, changed = *upd.Cooldown, append(changed, "cooldown")
	}
	if upd.MinInstances != nil {
		sp.MinInstances, changed = *upd.MinInstances, append(changed, "minInstances")
	}
	if upd.MaxInstances != nil {
		sp.MaxInstances, changed = *upd.MaxInstances, append(changed, "maxInstances")
	}
	return sp, changed
}

// merge folds a new update into the stored one and checks the result
// against the descriptor policy it changes.
func (u PolicyUpdate) merge(into PolicyUpdate, sp descriptors.ScalingPolicy) (PolicyUpdate, error) {
	out := PolicyUpdate{
		Threshold: newer(into.Threshold, u.Threshold), Band: newer(into.Band, u.Band),
		Duration: newer(into.Duration, u.Duration), Cooldown: newer(into.Cooldown, u.Cooldown),
		MinInstances: newer(into.MinInstances, u.MinInstances), MaxInstances: newer(into.MaxInstances, u.MaxInstances),
	}
	eff, _ := effective(sp, out)
	var problems []string
	bad := func(field, format string, args ...any) {
		problems = append(problems, field+": "+fmt.Sprintf(format, args...))
	}
	if u.Band != nil && sp.Metric != descriptors.MetricFreeSlotsRatio {
		bad("band", "only a %s policy has a band", descriptors.MetricFreeSlotsRatio)
	}
	if u.Threshold != nil && sp.Metric == descriptors.MetricFreeSlotsRatio {
		bad("threshold", "a %s policy keeps the ratio within its band; it has no threshold", descriptors.MetricFreeSlotsRatio)
	}
	if b := eff.Band; b != nil && !(0 <= b.Low && b.Low < b.High && b.High <= 1) {
		bad("band", "need 0 <= low < high <= 1, got low %g, high %g", b.Low, b.High)
	}
	if eff.Duration < 0 {
		bad("duration", "must not be negative")
	}
	if eff.Cooldown < 0 {
		bad("cooldown", "must not be negative")
	}
	if eff.MinInstances < 0 || eff.MaxInstances < 0 {
		bad("minInstances", "instance bounds must not be negative")
	}
	if eff.MaxInstances > 0 && eff.MinInstances > eff.MaxInstances {
		bad("maxInstances", "%d is below minInstances %d", eff.MaxInstances, eff.MinInstances)
	}
	if len(problems) > 0 {
		return into, fmt.Errorf("%w: scaling policy %s: %s", ErrInvalid, sp.ID, strings.Join(problems, "; "))
	}
	return out, nil
}

// newer is the changed value if there is one, else the recorded one.
func newer[T any](recorded, changed *T) *T {
	if changed != nil {
		return changed
	}
	return recorded
}

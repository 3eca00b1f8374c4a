package nfvo

import (
	"context"
	"time"

	"github.com/stitchnfv/stitch/internal/store"
	"github.com/stitchnfv/stitch/vnfm"
)

// SlotReport is an instance's latest session-slot report as stitch
// collected it (GET /slots on the instance, sdk/slots). AgeMs is how old
// the report was when this answer was made: a service router leaves
// headroom for what changed since.
type SlotReport struct {
	VnfcID       string    `json:"vnfcId"`
	VnfProfileID string    `json:"vnfProfileId"`
	Site         string    `json:"site"`
	Max          int       `json:"max"`
	Available    int       `json:"available"`
	InUse        int       `json:"inUse"`
	Seq          uint64    `json:"seq"`
	ReportedAt   time.Time `json:"reportedAt,omitzero"`
	AgeMs        float64   `json:"ageMs,omitempty"`
	Error        string    `json:"error,omitempty"`
}

// SlotReports returns the latest slot reports of an NS instance's
// instances with session slots.
func (o *Orchestrator) SlotReports(ctx context.Context, nsID string) ([]SlotReport, error) {
	if _, err := o.GetNS(ctx, nsID); err != nil {
		return nil, err
	}
	out := []SlotReport{}
	if o.cfg.Slots == nil {
		return out, nil
	}
	now := time.Now()
	for _, r := range o.cfg.Slots.Reports(nsID) {
		sr := SlotReport{VnfcID: r.Instance, VnfProfileID: r.Profile, Site: r.Site, Max: r.Max,
			Available: r.Available, InUse: r.InUse, Seq: r.Seq, ReportedAt: r.At, Error: r.Error}
		if !r.At.IsZero() {
			sr.AgeMs = ms(now.Sub(r.At))
		}
		out = append(out, sr)
	}
	return out, nil
}

// refreshSlotTargets tells the collector which instances to read: every
// healthy one with session slots, of every NS instance.
func (o *Orchestrator) refreshSlotTargets(ctx context.Context) error {
	if o.cfg.Slots == nil {
		return nil
	}
	var targets []vnfm.SlotTarget
	err := o.store.View(ctx, func(tx store.Tx) error {
		all, err := store.ListJSON[Vnfc](tx, bucketVnfc, "")
		for _, v := range all {
			if v.State == VnfcHealthy && v.SlotsEndpoint != "" {
				targets = append(targets, vnfm.SlotTarget{Instance: v.ID, NS: v.NsID, Profile: v.Profile, Site: v.Site, Addr: v.SlotsEndpoint})
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	o.cfg.Slots.SetTargets(targets)
	return nil
}

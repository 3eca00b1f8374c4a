package nfvo

import (
	"context"
	"fmt"
	"time"

	sdktelemetry "github.com/stitchnfv/stitch/sdk/telemetry"
	"github.com/stitchnfv/stitch/vnfm"
)

// silenceAfter is how long an instance that used to publish telemetry may
// stay silent before it is healed: several heartbeats (1 s) missed.
const silenceAfter = 5 * time.Second

// refreshTelemetryTargets tells the collector which instances to follow:
// every healthy instance of every instantiated NS, with its VNFD's
// monitoring parameters (what is collected), at its gNMI address.
func (o *Orchestrator) refreshTelemetryTargets(ctx context.Context) error {
	if o.cfg.Telemetry == nil {
		return nil
	}
	var targets []vnfm.TelemetryTarget
	wanted := func(ns NsInstance) bool { return ns.Desired.Instantiated }
	err := o.eachHealthy(ctx, wanted, func(_ NsInstance, p *plan, v Vnfc) {
		if t, ok := telemetryTarget(p, v); ok {
			targets = append(targets, t)
		}
	})
	if err != nil {
		return err
	}
	o.cfg.Telemetry.SetTargets(targets)
	return nil
}

// telemetryTarget is an instance as the collector follows it: its gNMI
// address on the health-check connection point (else its first one) and
// its VNFD's monitoring parameters.
func telemetryTarget(p *plan, v Vnfc) (vnfm.TelemetryTarget, bool) {
	c, err := p.constituent(v.Profile)
	if err != nil {
		return vnfm.TelemetryTarget{}, false
	}
	ip := ""
	if hc := healthCheckOf(p, v); hc != nil {
		ip = v.Addresses[hc.Cpd]
	}
	for _, a := range v.Addresses {
		if ip == "" {
			ip = a
		}
	}
	if ip == "" {
		return vnfm.TelemetryTarget{}, false
	}
	t := vnfm.TelemetryTarget{Instance: v.ID, NS: v.NsID, Profile: v.Profile, Site: v.Site, Addr: sdktelemetry.Addr(ip)}
	for _, m := range c.vnfd.MonitoringParams {
		t.Metrics = append(t.Metrics, vnfm.TelemetryMetric{ID: m.ID, Metric: m.PerformanceMetric, Period: m.CollectionPeriod.Std()})
	}
	return t, true
}

// silentInstances says why healthy instances that have published telemetry
// failed: silent for longer than silenceAfter. An instance never heard
// (a program without a gNMI target) is not judged by its telemetry.
func (o *Orchestrator) silentInstances(nsID string, now time.Time) map[string]string {
	if o.cfg.Telemetry == nil {
		return nil
	}
	silent := map[string]bool{}
	for _, id := range o.cfg.Telemetry.Silent(now, silenceAfter) {
		silent[id] = true
	}
	out := map[string]string{}
	for _, r := range o.cfg.Telemetry.Snapshot(nsID) {
		if silent[r.Instance] && !r.LastHeard.IsZero() {
			out[r.Instance] = fmt.Sprintf("instance %s has been silent on telemetry for %s", r.Instance, now.Sub(r.LastHeard).Round(time.Second))
		}
	}
	return out
}

// TelemetryReports returns what the VNFM collects over gNMI from an NS
// instance's instances: their connection, oper-status, last message and
// the latest value of each monitoring parameter.
func (o *Orchestrator) TelemetryReports(ctx context.Context, nsID string) ([]vnfm.TelemetryReport, error) {
	if _, err := o.GetNS(ctx, nsID); err != nil {
		return nil, err
	}
	out := []vnfm.TelemetryReport{}
	if o.cfg.Telemetry != nil {
		out = append(out, o.cfg.Telemetry.Snapshot(nsID)...)
	}
	return out, nil
}

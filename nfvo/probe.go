package nfvo

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/stitchnfv/stitch/descriptors"
	"github.com/stitchnfv/stitch/internal/store"
)

// Defaults of a health check that does not say (descriptors.HealthCheck).
const (
	defaultProbeInterval    = 2 * time.Second
	defaultFailureThreshold = 3
	maxParallelProbes       = 16
)

// prober keeps, per running instance, when it is next probed and how many
// probes in a row failed.
type prober struct {
	mu    sync.Mutex
	state map[string]*probeState // by VNFC id
}

type probeState struct {
	due      time.Time
	failures int
	last     string // the last failure
}

// probe is one health check to run.
type probe struct {
	nsID string
	v    Vnfc
	hc   *descriptors.HealthCheck
}

// probeInstances runs the due health checks of the healthy instances of
// every idle, instantiated NS instance, and marks FAILED those that failed
// their check failure-threshold times in a row (the monitor then heals
// them). The process-exit check of checkNS catches crashes; this catches
// instances that run but no longer serve.
func (o *Orchestrator) probeInstances(ctx context.Context, now time.Time) error {
	due, err := o.dueProbes(ctx, now)
	if err != nil {
		return err
	}
	sem := make(chan struct{}, maxParallelProbes)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := map[string][]Vnfc{} // by NS
	for _, pr := range due {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := o.vnfm.Probe(ctx, pr.v.Site, pr.hc, pr.v.Addresses)
			if o.recordProbe(pr, err, now) {
				mu.Lock()
				failed[pr.nsID] = append(failed[pr.nsID], pr.v)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for nsID, vs := range failed {
		if err := o.markFailed(ctx, nsID, vs); err != nil {
			return err
		}
	}
	return nil
}

// dueProbes lists the health checks due at now.
func (o *Orchestrator) dueProbes(ctx context.Context, now time.Time) ([]probe, error) {
	var out []probe
	live := map[string]bool{}
	idle := func(ns NsInstance) bool { return ns.State == NsInstantiated && ns.CurrentOp == "" }
	err := o.eachHealthy(ctx, idle, func(ns NsInstance, p *plan, v Vnfc) {
		hc := healthCheckOf(p, v)
		if hc == nil || (hc.Type != "http" && hc.Type != "tcp") {
			return
		}
		live[v.ID] = true
		if o.probeDue(v.ID, hc, now) {
			out = append(out, probe{nsID: ns.ID, v: v, hc: hc})
		}
	})
	o.prober.forgetOthers(live)
	return out, err
}

// eachHealthy calls fn for every healthy instance of the NS instances
// keep accepts, with the NS's plan, in one read of the store.
func (o *Orchestrator) eachHealthy(ctx context.Context, keep func(NsInstance) bool, fn func(NsInstance, *plan, Vnfc)) error {
	return o.store.View(ctx, func(tx store.Tx) error {
		nss, err := store.ListJSON[NsInstance](tx, bucketNS, "")
		if err != nil {
			return err
		}
		for _, ns := range nss {
			if !keep(ns) {
				continue
			}
			p, err := o.planOf(tx, ns, ns.FlavourID)
			if err != nil {
				continue // reported by the reconciler
			}
			vnfcs, err := listVnfcs(tx, ns.ID)
			if err != nil {
				return err
			}
			for _, v := range vnfcs {
				if v.State == VnfcHealthy {
					fn(ns, p, v)
				}
			}
		}
		return nil
	})
}

func healthCheckOf(p *plan, v Vnfc) *descriptors.HealthCheck {
	c, err := p.constituent(v.Profile)
	if err != nil {
		return nil
	}
	vdu, ok := c.vnfd.VDU(v.VDU)
	if !ok {
		return nil
	}
	return vdu.HealthCheck
}

// probeDue reports whether an instance's check is due and schedules the
// next one.
func (o *Orchestrator) probeDue(id string, hc *descriptors.HealthCheck, now time.Time) bool {
	o.prober.mu.Lock()
	defer o.prober.mu.Unlock()
	st := o.prober.state[id]
	if st == nil {
		st = &probeState{}
		o.prober.state[id] = st
	}
	if now.Before(st.due) {
		return false
	}
	interval := hc.Interval.Std()
	if interval <= 0 {
		interval = defaultProbeInterval
	}
	st.due = now.Add(interval)
	return true
}

// recordProbe counts a probe's outcome and reports whether the instance
// just reached its failure threshold.
func (o *Orchestrator) recordProbe(pr probe, err error, now time.Time) bool {
	o.prober.mu.Lock()
	defer o.prober.mu.Unlock()
	st := o.prober.state[pr.v.ID]
	if st == nil {
		return false
	}
	if err == nil {
		st.failures, st.last = 0, ""
		return false
	}
	st.failures++
	st.last = err.Error()
	threshold := pr.hc.FailureThreshold
	if threshold <= 0 {
		threshold = defaultFailureThreshold
	}
	return st.failures == threshold
}

// forgetOthers drops the state of instances no longer probed.
func (p *prober) forgetOthers(live map[string]bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id := range p.state {
		if !live[id] {
			delete(p.state, id)
		}
	}
}

// markFailed records instances that failed their health checks as FAILED
// with the reason, and the NS as DEGRADED; the monitor's next check heals
// them.
func (o *Orchestrator) markFailed(ctx context.Context, nsID string, vs []Vnfc) error {
	reasons := map[string]string{}
	o.prober.mu.Lock()
	for _, v := range vs {
		if st := o.prober.state[v.ID]; st != nil {
			reasons[v.ID] = fmt.Sprintf("instance %s failed its health check %d times in a row: %s", v.ID, st.failures, st.last)
		}
	}
	o.prober.mu.Unlock()
	return o.store.Update(ctx, func(tx store.Tx) error {
		ns, err := getNS(tx, nsID)
		if err != nil {
			return err
		}
		if ns.CurrentOp != "" {
			return nil // an operation owns the instances now
		}
		for _, v := range vs {
			cur, err := store.GetJSON[Vnfc](tx, bucketVnfc, nsID+"/"+v.ID)
			if err != nil || cur.State != VnfcHealthy {
				continue
			}
			cur.State, cur.LastError = VnfcFailed, reasons[v.ID]
			if err := store.PutJSON(tx, bucketVnfc, nsID+"/"+v.ID, cur); err != nil {
				return err
			}
			o.log.Warn("instance failed its health checks", "ns", nsID, "instance", v.ID, "reason", reasons[v.ID])
		}
		ns.Status = "DEGRADED"
		return store.PutJSON(tx, bucketNS, nsID, ns)
	})
}

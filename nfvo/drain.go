package nfvo

import (
	"context"
	"sync"
	"time"
)

// drainPoll is how often a draining instance's sessions are read.
const drainPoll = 100 * time.Millisecond

// drain waits until the instances a scale-in or heal removes hold no more
// sessions, or the drain timeout passes. New sessions no longer reach them
// (the SAP's balancer and the neighbours' bindings were rewritten before),
// so what remains are sessions that started earlier: they may finish.
// Instances without session slots, and those that cannot be read (a failed
// instance being healed), are not waited for.
func (o *Orchestrator) drain(ctx context.Context, r *run, gone []Vnfc) {
	var wg sync.WaitGroup
	for _, v := range gone {
		if v.SlotsEndpoint == "" {
			continue
		}
		wg.Go(func() { o.drainOne(ctx, r, v) })
	}
	wg.Wait()
}

func (o *Orchestrator) drainOne(ctx context.Context, r *run, v Vnfc) {
	deadline := time.Now().Add(o.cfg.DrainTimeout)
	announced := false
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		s, err := o.vnfm.ReadSlots(rctx, v.Site, v.SlotsEndpoint)
		cancel()
		switch {
		case err != nil || s.InUse == 0:
			if announced {
				o.step(ctx, r.opID, "%s drained", v.ID)
			}
			return
		case time.Now().After(deadline):
			o.step(ctx, r.opID, "%s still holds %d sessions after the drain timeout (%s): removing it", v.ID, s.InUse, o.cfg.DrainTimeout)
			return
		case !announced:
			o.step(ctx, r.opID, "draining %s: %d sessions in progress, no new ones", v.ID, s.InUse)
			announced = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(drainPoll):
		}
	}
}

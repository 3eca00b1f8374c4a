package nfvo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/stitchnfv/stitch/internal/store"
	"github.com/stitchnfv/stitch/servicerouter/control"
)

// unslottedCapacity is the slot count stitch reports to a router for an
// entry instance that has no session slots of its own: such instances share
// the SAP's sessions equally.
const unslottedCapacity = 1000

// RouterView is one service router of an NS instance and what it serves,
// as GET /nslcm/v1/ns_instances/{id}/routers shows it.
type RouterView struct {
	VnfcID   string                `json:"vnfcId"`
	Site     string                `json:"site"`
	Address  string                `json:"address"`
	Services []control.ServiceView `json:"services"`
	// Error is why the router could not be read.
	Error string `json:"error,omitempty"`
}

// OverflowRoutes finds where a service's new sessions go when no local
// instance has a free slot: the best route to the service that another
// domain announces (the daemon's inter-domain node implements it).
type OverflowRoutes interface {
	// Overflow returns the remote ingress and the origin domain of the
	// best remote route with free slots for a service
	// ("<nsd-id>/<sap-id>"), or ok false.
	Overflow(ctx context.Context, service string) (ingress netip.Addr, origin string, ok bool)
}

// routerTarget is a healthy router and the services it must serve.
type routerTarget struct {
	vnfc     Vnfc
	services []control.Service
	reports  []control.Report
}

// RunRouters keeps every service router in step with its NS instance
// every interval: its services (entry instances, draining ones) and the
// latest session-slot reports.
func (o *Orchestrator) RunRouters(ctx context.Context, interval time.Duration) {
	if o.cfg.Router == nil {
		return
	}
	paced(ctx, interval, func() {
		nss, err := o.ListNS(ctx)
		for _, ns := range nss {
			if ns.State == NsInstantiated || ns.Desired.Instantiated {
				if err := o.syncRouters(ctx, ns.ID); err != nil && ctx.Err() == nil {
					o.log.Debug("service router sync", "ns", ns.ID, "err", err)
				}
			}
		}
		if err != nil && ctx.Err() == nil {
			o.log.Warn("service routers: listing NS instances", "err", err)
		}
	})
}

// paced runs pass every interval until ctx ends, but leaves up to twice a
// pass's duration idle after it, and at most one interval: a walk over
// every NS instance grows with their number, and must not take a core of
// its own (1,000 NS instances: ~60–90 ms a pass, see
// BenchmarkBackgroundWith1000Instances), yet a pass slowed by I/O (a
// router that answers late) must not leave the others' slot reports
// older than the router's timeout.
func paced(ctx context.Context, interval time.Duration, pass func()) {
	for {
		start := time.Now()
		pass()
		took := time.Since(start)
		wait := max(interval-took, min(2*took, interval))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// syncRouters pushes the NS instance's healthy routers their services and
// reports.
func (o *Orchestrator) syncRouters(ctx context.Context, nsID string) error {
	targets, err := o.routerTargets(ctx, nsID)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range targets {
		c := o.routerClient(t.vnfc)
		if err := c.PutServices(ctx, t.services); err != nil {
			errs = append(errs, fmt.Errorf("router %s: %w", t.vnfc.ID, err))
			continue
		}
		if len(t.reports) == 0 {
			continue
		}
		res, err := c.PostReports(ctx, t.reports)
		if err != nil {
			errs = append(errs, fmt.Errorf("router %s: %w", t.vnfc.ID, err))
			continue
		}
		for _, r := range res.Rejected {
			o.log.Debug("service router rejected a slot report", "router", t.vnfc.ID, "instance", r.Instance, "err", r.Error)
		}
	}
	return errors.Join(errs...)
}

// routerTargets reads what every healthy router of the NS must serve.
func (o *Orchestrator) routerTargets(ctx context.Context, nsID string) ([]routerTarget, error) {
	if o.cfg.Router == nil {
		return nil, nil
	}
	var p *plan
	var nsdID string
	var vnfcs []Vnfc
	err := o.store.View(ctx, func(tx store.Tx) error {
		ns, err := getNS(tx, nsID)
		if err != nil {
			return err
		}
		nsdID = ns.NsdID
		if p, err = o.planOf(tx, ns, ns.FlavourID); err != nil {
			return err
		}
		vnfcs, err = listVnfcs(tx, nsID)
		return err
	})
	if err != nil {
		return nil, err
	}
	var reports map[string]SlotReport
	var out []routerTarget
	now := o.now()
	for _, rs := range routedSAPs(p) {
		for _, r := range vnfcs {
			if r.Profile != rs.profile || r.State != VnfcHealthy {
				continue
			}
			if reports == nil {
				reports = o.slotReportsByVnfc(nsID)
			}
			svc, reps := routerService(p, rs, nsdID, vnfcs, reports, now)
			svc.Overflow = o.overflow(ctx, nsID, rs, svc.Name)
			out = append(out, routerTarget{vnfc: r, services: []control.Service{svc}, reports: reps})
		}
	}
	return out, nil
}

// routerService is what a router serves for one SAP: the entry instances
// that are healthy, and those being removed as draining (their sessions
// keep their instance until they end), with their slot reports.
func routerService(p *plan, rs routedSAP, nsdID string, vnfcs []Vnfc, reports map[string]SlotReport, now time.Time) (control.Service, []control.Report) {
	svc := control.Service{Name: nsdID + "/" + rs.sap.ID, VIP: rs.vip.Addr().String(), Port: rs.vip.Port(),
		Protocol: rs.proto, Instances: []control.Instance{}}
	c, err := p.constituent(rs.sap.Entry.ConstituentBaseElementID)
	if err != nil {
		return svc, nil
	}
	var reps []control.Report
	for _, v := range vnfcs {
		if v.Profile != c.profile.ID || (v.State != VnfcHealthy && v.State != VnfcDeleting) {
			continue
		}
		cpd, ok := entryCpd(p, c, v.VDU, rs)
		if !ok || v.Addresses[cpd] == "" {
			continue
		}
		svc.Instances = append(svc.Instances, control.Instance{ID: v.ID, Address: v.Addresses[cpd],
			MAC: instanceMAC(v.ID, cpd), Draining: v.State == VnfcDeleting})
		switch r, ok := reports[v.ID]; {
		case v.SlotsEndpoint == "":
			reps = append(reps, control.Report{Service: svc.Name, Instance: v.ID,
				Max: unslottedCapacity, Available: unslottedCapacity, MeasuredAt: now})
		case ok && r.Error == "" && !r.ReportedAt.IsZero():
			reps = append(reps, control.Report{Service: svc.Name, Instance: v.ID,
				Max: r.Max, Available: r.Available, MeasuredAt: r.ReportedAt})
		case v.State == VnfcHealthy && v.Slots > 0 && !v.HealthyAt.IsZero():
			// Not read yet: it had all its slots free when it became
			// healthy, so the SAP serves as soon as the NS is instantiated.
			reps = append(reps, control.Report{Service: svc.Name, Instance: v.ID,
				Max: v.Slots, Available: v.Slots, MeasuredAt: v.HealthyAt})
		}
	}
	return svc, reps
}

// overflow is where the router sends a service's new sessions when no
// local instance has a free slot: a remote domain's ingress, reached
// through the NS's logical router (its port on the SAP's link is the next
// hop); nil refuses them.
func (o *Orchestrator) overflow(ctx context.Context, nsID string, rs routedSAP, service string) *control.Instance {
	if o.cfg.Overflow == nil {
		return nil
	}
	ingress, origin, ok := o.cfg.Overflow.Overflow(ctx, service)
	if !ok || !ingress.Is4() {
		return nil
	}
	return &control.Instance{ID: "domain:" + origin, Address: ingress.String(), MAC: macFor("router/" + nsID + "/" + rs.vl)}
}

// entryCpd is the connection point of a VDU that is the SAP's entry.
func entryCpd(p *plan, c constituent, vduID string, rs routedSAP) (string, bool) {
	vdu, ok := c.vnfd.VDU(vduID)
	if !ok {
		return "", false
	}
	for _, cp := range vdu.IntCpds {
		if got, ok := p.entryOf(c, vduID, cp.ID); ok && got.sap.ID == rs.sap.ID {
			return cp.ID, true
		}
	}
	return "", false
}

// slotReportsByVnfc indexes the collector's latest reports of an NS.
func (o *Orchestrator) slotReportsByVnfc(nsID string) map[string]SlotReport {
	out := map[string]SlotReport{}
	if o.cfg.Slots == nil {
		return out
	}
	for _, r := range o.cfg.Slots.Reports(nsID) {
		out[r.Instance] = SlotReport{VnfcID: r.Instance, Max: r.Max, Available: r.Available, InUse: r.InUse,
			Seq: r.Seq, ReportedAt: r.At, Error: r.Error}
	}
	return out
}

// routerClient talks to a router's control API from inside its site.
func (o *Orchestrator) routerClient(v Vnfc) *control.Client {
	o.routerMu.Lock()
	defer o.routerMu.Unlock()
	hc := o.routerHTTP[v.Site]
	if hc == nil {
		site := v.Site
		hc = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return o.vnfm.Dial(ctx, site, network, addr)
			},
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     30 * time.Second,
		}}
		o.routerHTTP[site] = hc
	}
	addr := net.JoinHostPort(v.Addresses[routerCP], fmt.Sprint(control.DefaultPort))
	return control.NewClient("http://"+addr, hc)
}

// Routers reads what every service router of an NS instance serves.
func (o *Orchestrator) Routers(ctx context.Context, nsID string) ([]RouterView, error) {
	if _, err := o.GetNS(ctx, nsID); err != nil {
		return nil, err
	}
	targets, err := o.routerTargets(ctx, nsID)
	if err != nil {
		return nil, err
	}
	out := []RouterView{}
	for _, t := range targets {
		rv := RouterView{VnfcID: t.vnfc.ID, Site: t.vnfc.Site, Address: t.vnfc.Addresses[routerCP]}
		views, err := o.routerClient(t.vnfc).Services(ctx)
		if err != nil {
			rv.Error = err.Error()
		}
		rv.Services = views
		out = append(out, rv)
	}
	return out, nil
}

// tellRouters syncs the NS's routers at once after its instances changed
// (a draining instance must stop taking sessions before the drain waits),
// rather than at the next periodic sync. A router that cannot be told now
// is told by the periodic sync.
func (o *Orchestrator) tellRouters(ctx context.Context, nsID string) {
	if err := o.syncRouters(ctx, nsID); err != nil {
		o.log.Debug("service router sync", "ns", nsID, "err", err)
	}
}

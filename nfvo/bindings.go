package nfvo

import (
	"context"
	"errors"
	"net"
	"strconv"

	"github.com/stitchnfv/stitch/descriptors"
	"github.com/stitchnfv/stitch/internal/store"
	"github.com/stitchnfv/stitch/sfc"
	"github.com/stitchnfv/stitch/vnfm"
)

// refreshBindings renders the NS into the SDN and tells every instance of the NS where its neighbours are:
// the healthy instances of the next function of its chains and of the
// constituents it depends on.
func (o *Orchestrator) refreshBindings(ctx context.Context, nsID string, p *plan) error {
	// The SDN first: a neighbour named in a bindings file must be
	// reachable, and an instance about to start must find its port.
	if err := o.rewire(ctx, nsID, p); err != nil {
		return err
	}
	var vnfcs []Vnfc
	err := o.store.View(ctx, func(tx store.Tx) (err error) {
		vnfcs, err = listVnfcs(tx, nsID)
		return err
	})
	if err != nil {
		return err
	}
	healthy := map[string][]Vnfc{}
	for _, v := range vnfcs {
		if v.State == VnfcHealthy {
			healthy[v.Profile] = append(healthy[v.Profile], v)
		}
	}
	var errs []error
	for _, v := range vnfcs {
		if v.State == VnfcDeleting {
			continue
		}
		b := vnfm.Bindings{Next: o.nextHops(p, v.Profile, healthy), Deps: map[string][]string{}}
		if prof, ok := p.df.Profile(v.Profile); ok {
			for _, dep := range prof.DependsOn {
				b.Deps[dep] = endpoints(p, dep, "", healthy[dep])
			}
		}
		errs = append(errs, o.vnfm.WriteBindings(v.ID, b))
	}
	return errors.Join(errs...)
}

// nextHops returns the ingress endpoints of the function after profile in
// every chain it is part of.
func (o *Orchestrator) nextHops(p *plan, profile string, healthy map[string][]Vnfc) []string {
	var out []string
	for _, h := range sfc.Next(sfc.Chains(p.nsd), profile) {
		out = append(out, endpoints(p, h.Profile, h.IngressCpd, healthy[h.Profile])...)
	}
	return out
}

// endpoints lists "ip:port" of instances at an ext-cpd (the first one that
// serves a port when extCpd is empty).
func endpoints(p *plan, profile, extCpd string, vnfcs []Vnfc) []string {
	prof, ok := p.df.Profile(profile)
	if !ok {
		return nil
	}
	v, ok := p.vnfds[prof.VnfdID]
	if !ok {
		return nil
	}
	var cp *descriptors.ExtCpd
	for i := range v.ExtCpds {
		e := &v.ExtCpds[i]
		if (extCpd == "" && len(e.Ports) > 0) || e.ID == extCpd {
			cp = e
			break
		}
	}
	if cp == nil || cp.IntCpd == nil || len(cp.Ports) == 0 {
		return nil
	}
	out := []string{}
	for _, inst := range vnfcs {
		if inst.VDU != cp.IntCpd.VduID {
			continue
		}
		if ip := inst.Addresses[cp.IntCpd.Cpd]; ip != "" {
			out = append(out, net.JoinHostPort(ip, strconv.Itoa(cp.Ports[0].Port)))
		}
	}
	return out
}

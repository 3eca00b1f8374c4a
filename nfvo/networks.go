package nfvo

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/stitchnfv/stitch/sfc/ovn"
	"github.com/stitchnfv/stitch/vim"
)

// netInfo is an NS virtual link as created on the VIM.
type netInfo struct {
	id   string
	cidr string
}

// defaultCIDR numbers the links of an NSD that gives none.
func defaultCIDR(i int) string { return fmt.Sprintf("10.250.%d.0/24", i) }

// ensureNetworks creates the NS's virtual links on the VIM, each spanning
// every site its constituents may run on.
func (o *Orchestrator) ensureNetworks(ctx context.Context, ns NsInstance, p *plan, r *run) (map[string]netInfo, error) {
	sites, err := o.vnfm.Sites(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing sites: %w", err)
	}
	var allSites []string
	for _, s := range sites {
		allSites = append(allSites, s.Name)
	}
	spans := map[string][]string{}
	for _, prof := range p.df.VnfProfiles {
		allowed := prof.Sites
		if len(allowed) == 0 {
			allowed = allSites
		}
		for _, conn := range prof.VirtualLinkConnectivity {
			vlp, ok := vlProfile(p, conn.VirtualLinkProfileID)
			if !ok {
				return nil, fmt.Errorf("%w: unknown virtual-link-profile %q", ErrInvalid, conn.VirtualLinkProfileID)
			}
			for _, s := range allowed {
				if !slices.Contains(spans[vlp], s) {
					spans[vlp] = append(spans[vlp], s)
				}
			}
		}
	}
	out := map[string]netInfo{}
	for i, vl := range p.nsd.VirtualLinkDescs {
		span, used := spans[vl.ID]
		if !used {
			continue
		}
		slices.Sort(span)
		cidr := vl.CIDR
		if cidr == "" {
			cidr = defaultCIDR(i)
		}
		spec := vim.NetworkSpec{
			Name: networkName(ns.ID, vl.ID), CIDR: cidr, Sites: span,
			Tags: vim.Tags{vim.TagNSInstance: ns.ID, vim.TagOperation: r.opID},
		}
		if o.cfg.Wiring != nil {
			spec.AccessPorts = map[string]string{}
			for _, s := range span {
				lp, err := ovn.LogicalPortName(ns.ID, accessPortName(vl.ID, s))
				if err != nil {
					return nil, err
				}
				spec.AccessPorts[s] = lp
			}
		}
		n, err := o.vnfm.EnsureNetwork(ctx, spec)
		if err != nil {
			return nil, err
		}
		out[vl.ID] = netInfo{id: n.ID, cidr: cidr}
	}
	o.step(ctx, r.opID, "%d virtual links ready", len(out))
	return out, nil
}

// vlProfile maps a virtual-link-profile id to its virtual-link-desc id.
func vlProfile(p *plan, id string) (string, bool) {
	for _, vlp := range p.df.VirtualLinkProfiles {
		if vlp.ID == id {
			return vlp.VirtualLinkDescID, true
		}
	}
	return "", false
}

func networkName(nsID, vl string) string { return shortID(nsID) + "-" + vl }

// shortID is the first 48 bits of an NS id, in VIM resource names.
func shortID(nsID string) string {
	s := strings.ReplaceAll(nsID, "-", "")
	return s[:min(12, len(s))]
}

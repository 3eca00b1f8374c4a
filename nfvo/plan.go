package nfvo

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/stitchnfv/stitch/descriptors"
	"github.com/stitchnfv/stitch/internal/store"
)

// plan is an NS instance's descriptors, resolved for reconciling.
type plan struct {
	nsd    *descriptors.NSD
	df     *descriptors.NSDeploymentFlavour
	vnfds  map[string]*descriptors.VNFD // by vnfd id, pinned versions
	layers [][]string                   // vnf-profile ids in depends-on order
}

func replicaKey(profile, vdu string) string { return profile + "/" + vdu }

func loadPlan(tx store.Tx, ns NsInstance, flavourID string) (*plan, error) {
	nsdInfo, err := getNSD(tx, ns.NsdID+":"+ns.NsdVersion)
	if err != nil {
		return nil, err
	}
	nsd, err := decodeNSD(nsdInfo)
	if err != nil {
		return nil, err
	}
	df, ok := nsd.Flavour(flavourID)
	if !ok {
		return nil, fmt.Errorf("%w: NSD %s has no flavour %q", ErrInvalid, nsdInfo.ID, flavourID)
	}
	p := &plan{nsd: nsd, df: df, vnfds: map[string]*descriptors.VNFD{}}
	for id, version := range ns.VnfdVersions {
		info, err := getVNFD(tx, id+":"+version)
		if err != nil {
			return nil, fmt.Errorf("%w: pinned %w", ErrState, err)
		}
		if p.vnfds[id], err = decodeVNFD(info); err != nil {
			return nil, err
		}
	}
	if p.layers, err = df.DeploymentOrder(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return p, nil
}

// constituent is one vnf-profile with its VNFD and flavour.
type constituent struct {
	profile *descriptors.VnfProfile
	vnfd    *descriptors.VNFD
	df      *descriptors.VNFDeploymentFlavour
}

func (p *plan) constituent(profileID string) (constituent, error) {
	prof, ok := p.df.Profile(profileID)
	if !ok {
		return constituent{}, fmt.Errorf("%w: no vnf-profile %q", ErrInvalid, profileID)
	}
	v, ok := p.vnfds[prof.VnfdID]
	if !ok {
		return constituent{}, fmt.Errorf("%w: VNFD %q of vnf-profile %s is not pinned", ErrState, prof.VnfdID, profileID)
	}
	df, ok := v.Flavour(prof.FlavourID)
	if !ok {
		return constituent{}, fmt.Errorf("%w: VNFD %s has no flavour %q", ErrInvalid, v.ID, prof.FlavourID)
	}
	return constituent{profile: prof, vnfd: v, df: df}, nil
}

// bounds combines the VDU's profile bounds with the NS profile's.
func (c constituent) bounds(vdu string) (lo, hi int) {
	lo, hi = c.df.Bounds(vdu)
	if c.profile.MinNumberOfInstances > lo {
		lo = c.profile.MinNumberOfInstances
	}
	if m := c.profile.MaxNumberOfInstances; m > 0 && (hi == 0 || m < hi) {
		hi = m
	}
	return lo, hi
}

// initialReplicas is the instance count of every VDU at instantiation.
func (p *plan) initialReplicas() map[string]int {
	out := map[string]int{}
	for _, prof := range p.df.VnfProfiles {
		c, err := p.constituent(prof.ID)
		if err != nil {
			continue // validated at onboarding; reconcile reports it
		}
		for _, vdu := range c.vnfd.VDUs {
			n := c.df.InitialInstances(vdu.ID, prof.InstantiationLevel)
			lo, hi := c.bounds(vdu.ID)
			n = max(n, lo)
			if hi > 0 {
				n = min(n, hi)
			}
			out[replicaKey(prof.ID, vdu.ID)] = n
		}
	}
	return out
}

// scaled applies a scale request to the replica counts, within bounds.
func (p *plan) scaled(cur map[string]int, d ScaleVnfData) (map[string]int, error) {
	c, err := p.constituent(d.VnfProfileID)
	if err != nil {
		return nil, err
	}
	delta, err := c.df.AspectDelta(d.AspectID)
	if err != nil {
		return nil, fmt.Errorf("%w: vnf-profile %s: %w", ErrInvalid, d.VnfProfileID, err)
	}
	out := make(map[string]int, len(cur))
	for k, v := range cur {
		out[k] = v
	}
	sign := 1
	if d.ScaleVnfType == "SCALE_IN" {
		sign = -1
	}
	for vdu, n := range delta {
		key := replicaKey(d.VnfProfileID, vdu)
		next := out[key] + sign*n*d.NumberOfSteps
		lo, hi := c.bounds(vdu)
		if next < lo {
			return nil, fmt.Errorf("%w: scaling %s in to %d instances goes below its minimum of %d", ErrState, key, next, lo)
		}
		if hi > 0 && next > hi {
			return nil, fmt.Errorf("%w: scaling %s out to %d instances exceeds its maximum of %d", ErrState, key, next, hi)
		}
		out[key] = next
	}
	return out, nil
}

// planOf loads an NS instance's plan with the constituents stitch adds:
// the service routers (RouterConfig). Plans are cached by what they are
// made of — the NSD version, the flavour and the pinned VNFD versions —
// since the periodic walks (autoscaler, probes, routers) read every NS's
// plan several times a second and decoding descriptors dominates them;
// a cached plan is shared and must not be modified.
func (o *Orchestrator) planOf(tx store.Tx, ns NsInstance, flavourID string) (*plan, error) {
	key := planKey(ns, flavourID)
	if p := o.plans.get(key); p != nil {
		return p, nil
	}
	p, err := loadPlan(tx, ns, flavourID)
	if err != nil {
		return nil, err
	}
	if err := o.addRouters(p); err != nil {
		return nil, err
	}
	o.plans.put(key, p)
	return p, nil
}

func planKey(ns NsInstance, flavourID string) string {
	var b strings.Builder
	b.WriteString(ns.NsdID + ":" + ns.NsdVersion + "/" + flavourID)
	for _, id := range slices.Sorted(maps.Keys(ns.VnfdVersions)) {
		b.WriteString("/" + id + ":" + ns.VnfdVersions[id])
	}
	return b.String()
}

// planCache holds decoded plans; the catalog empties it whenever a
// descriptor is onboarded or deleted (a version could be deleted and
// onboarded again with other content).
type planCache struct {
	mu sync.Mutex
	m  map[string]*plan
}

func (c *planCache) get(key string) *plan {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

func (c *planCache) put(key string, p *plan) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*plan{}
	}
	c.m[key] = p
}

func (c *planCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

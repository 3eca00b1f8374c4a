package descriptors

import (
	"errors"
	"fmt"
	"math"
)

// ErrNotFound is wrapped by accessor errors for an id that is not there.
var ErrNotFound = errors.New("not found")

// What a VDU gets when its VNFD says nothing about compute resources.
const (
	DefaultVCPU     = 1
	DefaultMemoryMB = 256
)

// Flavour returns the deployment flavour with the given id; "" means the
// first one, which is what a vnf-profile without flavour-id deploys.
func (v *VNFD) Flavour(id string) (*VNFDeploymentFlavour, bool) {
	return find(v.DFs, id, func(df *VNFDeploymentFlavour) string { return df.ID })
}

// VDU returns the VDU with the given id.
func (v *VNFD) VDU(id string) (*VDU, bool) {
	if id == "" {
		return nil, false
	}
	return find(v.VDUs, id, func(d *VDU) string { return d.ID })
}

// ExtCpd returns the external connection point with the given id.
func (v *VNFD) ExtCpd(id string) (*ExtCpd, bool) {
	if id == "" {
		return nil, false
	}
	return find(v.ExtCpds, id, func(e *ExtCpd) string { return e.ID })
}

// Compute returns the vCPUs and memory (MB) of a VDU from its
// virtual-compute-desc (memory is in GB there, as in SOL006), with
// DefaultVCPU and DefaultMemoryMB for whatever is not described.
func (v *VNFD) Compute(vduID string) (vcpu, memoryMB int) {
	vcpu, memoryMB = DefaultVCPU, DefaultMemoryMB
	vdu, ok := v.VDU(vduID)
	if !ok || vdu.VirtualComputeDesc == "" {
		return vcpu, memoryMB
	}
	desc, ok := find(v.VirtualComputeDescs, vdu.VirtualComputeDesc, func(d *VirtualComputeDesc) string { return d.ID })
	if !ok {
		return vcpu, memoryMB
	}
	if n := desc.VirtualCPU.NumVirtualCPU; n > 0 {
		vcpu = n
	}
	if gb := desc.VirtualMemory.Size; gb > 0 {
		// Round up: a VDU asking for 0.1 GB must not get less.
		memoryMB = int(math.Min(math.Ceil(gb*1024), math.MaxInt32))
	}
	return vcpu, memoryMB
}

// Slots returns the session slots of one instance of a VDU in a flavour
// ("" for the first): the vdu-profile's override, else the VDU's own.
func (v *VNFD) Slots(dfID, vduID string) int {
	if df, ok := v.Flavour(dfID); ok {
		if p, ok := df.profile(vduID); ok && p.Slots > 0 {
			return p.Slots
		}
	}
	if vdu, ok := v.VDU(vduID); ok {
		return vdu.Slots
	}
	return 0
}

func (df *VNFDeploymentFlavour) profile(vduID string) (*VduProfile, bool) {
	if vduID == "" {
		return nil, false
	}
	return find(df.VduProfiles, vduID, func(p *VduProfile) string { return p.ID })
}

// Bounds returns a VDU's instance bounds in this flavour; max 0 means no
// maximum. A VDU without a vdu-profile runs one instance, unbounded.
func (df *VNFDeploymentFlavour) Bounds(vduID string) (min, max int) {
	if p, ok := df.profile(vduID); ok {
		return p.MinNumberOfInstances, p.MaxNumberOfInstances
	}
	return 1, 0
}

// InitialInstances returns how many instances of a VDU to start: the count
// of the instantiation level ("" for the first level) if it names the VDU,
// else the VDU's minimum (1 without a vdu-profile).
func (df *VNFDeploymentFlavour) InitialInstances(vduID, levelID string) int {
	if lvl, ok := find(df.InstantiationLevels, levelID, func(l *InstantiationLevel) string { return l.ID }); ok {
		for _, vl := range lvl.VduLevels {
			if vl.VduID == vduID {
				return vl.NumberOfInstances
			}
		}
	}
	lo, _ := df.Bounds(vduID)
	return lo
}

// AspectDelta returns how many instances of each VDU one step of a scaling
// aspect adds or removes, from the aspect's first delta.
func (df *VNFDeploymentFlavour) AspectDelta(aspectID string) (map[string]int, error) {
	if aspectID == "" {
		return nil, fmt.Errorf("scaling aspect: empty id: %w", ErrNotFound)
	}
	a, ok := find(df.ScalingAspects, aspectID, func(a *ScalingAspect) string { return a.ID })
	if !ok {
		return nil, fmt.Errorf("scaling aspect %q in df %q: %w", aspectID, df.ID, ErrNotFound)
	}
	if a.AspectDeltaDetails == nil || len(a.AspectDeltaDetails.Deltas) == 0 {
		return nil, fmt.Errorf("scaling aspect %q in df %q has no deltas: %w", aspectID, df.ID, ErrInvalid)
	}
	step := map[string]int{}
	for _, vd := range a.AspectDeltaDetails.Deltas[0].VduDeltas {
		step[vd.ID] += vd.NumberOfInstances
	}
	return step, nil
}

// Flavour returns the NSD deployment flavour with the given id; "" means the
// first one.
func (n *NSD) Flavour(id string) (*NSDeploymentFlavour, bool) {
	return find(n.DFs, id, func(df *NSDeploymentFlavour) string { return df.ID })
}

// Profile returns the vnf-profile (constituent) with the given id.
func (df *NSDeploymentFlavour) Profile(id string) (*VnfProfile, bool) {
	if id == "" {
		return nil, false
	}
	return find(df.VnfProfiles, id, func(p *VnfProfile) string { return p.ID })
}

// VirtualLink returns the virtual-link-desc with the given id.
func (n *NSD) VirtualLink(id string) (*NsVirtualLinkDesc, bool) {
	if id == "" {
		return nil, false
	}
	return find(n.VirtualLinkDescs, id, func(l *NsVirtualLinkDesc) string { return l.ID })
}

// LinkOf returns the virtual-link-desc a constituent's ext-cpd attaches to,
// through virtual-link-connectivity and virtual-link-profile. As in OSM's
// NSDs, a virtual-link-profile-id that names no virtual-link-profile is taken
// to name the virtual-link-desc itself.
func (df *NSDeploymentFlavour) LinkOf(profileID, extCpdID string) (vlDescID string, ok bool) {
	for _, vp := range df.VnfProfiles {
		for _, vlc := range vp.VirtualLinkConnectivity {
			for _, cc := range vlc.ConstituentCpdIDs {
				if cc.ConstituentBaseElementID != profileID || cc.ConstituentCpdID != extCpdID {
					continue
				}
				if lp, ok := find(df.VirtualLinkProfiles, vlc.VirtualLinkProfileID, func(l *VirtualLinkProfile) string { return l.ID }); ok && vlc.VirtualLinkProfileID != "" {
					return lp.VirtualLinkDescID, lp.VirtualLinkDescID != ""
				}
				return vlc.VirtualLinkProfileID, vlc.VirtualLinkProfileID != ""
			}
		}
	}
	return "", false
}

// find returns the first item with the given id; "" means the first item.
func find[T any](items []T, id string, idOf func(*T) string) (*T, bool) {
	for i := range items {
		if id == "" || idOf(&items[i]) == id {
			return &items[i], true
		}
	}
	return nil, false
}

package descriptors

import (
	"cmp"
	"fmt"
	"strings"
)

// maxMemoryGB bounds virtual-memory.size so that converting it to
// megabytes cannot overflow.
const maxMemoryGB = 1 << 20

// ValidateVNFD checks a VNFD on its own and reports every problem at once
// as a *ValidationError (errors.Is(err, ErrInvalid)). Call SetDefaults
// first when the VNFD was not produced by Parse.
func ValidateVNFD(v *VNFD) error {
	c := &checker{}
	c.vnfd("vnfd", v)
	return c.err()
}

func (c *checker) vnfd(p string, v *VNFD) {
	if v == nil {
		c.add(p, "missing")
		return
	}
	c.id(p+".id", v.ID)
	switch v.Kind {
	case "", KindVNF, KindMicroservice:
	default:
		c.add(p+".kind", "%q is not one of %s, %s", v.Kind, KindVNF, KindMicroservice)
	}

	computes := index(c, p+".virtual-compute-desc", v.VirtualComputeDescs, func(d *VirtualComputeDesc) string { return d.ID })
	for i, d := range v.VirtualComputeDescs {
		dp := fmt.Sprintf("%s.virtual-compute-desc[%d]", p, i)
		if d.VirtualCPU.NumVirtualCPU < 1 {
			c.add(dp+".virtual-cpu.num-virtual-cpu", "must be at least 1, got %d", d.VirtualCPU.NumVirtualCPU)
		}
		if s := d.VirtualMemory.Size; !(s > 0 && s <= maxMemoryGB) {
			c.add(dp+".virtual-memory.size", "must be more than 0 and at most %d (GB), got %g", maxMemoryGB, s)
		}
	}
	images := index(c, p+".sw-image-desc", v.SwImageDescs, func(d *SwImageDesc) string { return d.ID })
	links := index(c, p+".int-virtual-link-desc", v.IntVirtualLinkDescs, func(d *IntVirtualLinkDesc) string { return d.ID })
	for i, l := range v.IntVirtualLinkDescs {
		c.cidr(fmt.Sprintf("%s.int-virtual-link-desc[%d].cidr", p, i), l.CIDR)
	}

	if len(v.VDUs) == 0 {
		c.add(p+".vdu", "at least one vdu is required")
	}
	vdus := index(c, p+".vdu", v.VDUs, func(d *VDU) string { return d.ID })
	cpdsOf := make(map[string]map[string]*IntCpd, len(v.VDUs))
	for i := range v.VDUs {
		vdu := &v.VDUs[i]
		cpds := c.vdu(fmt.Sprintf("%s.vdu[%d]", p, i), vdu, computes, images, links)
		if vdus[vdu.ID] == vdu {
			cpdsOf[vdu.ID] = cpds
		}
	}

	extCpds := index(c, p+".ext-cpd", v.ExtCpds, func(d *ExtCpd) string { return d.ID })
	for i, e := range v.ExtCpds {
		c.extCpd(fmt.Sprintf("%s.ext-cpd[%d]", p, i), e, vdus, cpdsOf)
	}
	optRef(c, p+".mgmt-cp", v.MgmtCp, extCpds, "ext-cpd")

	if len(v.DFs) == 0 {
		c.add(p+".df", "at least one df is required")
	}
	index(c, p+".df", v.DFs, func(d *VNFDeploymentFlavour) string { return d.ID })
	for i := range v.DFs {
		c.vnfdFlavour(fmt.Sprintf("%s.df[%d]", p, i), &v.DFs[i], vdus)
	}

	index(c, p+".monitoring-parameter", v.MonitoringParams, func(m *MonitoringParameter) string { return m.ID })
	for i, m := range v.MonitoringParams {
		mp := fmt.Sprintf("%s.monitoring-parameter[%d]", p, i)
		if m.PerformanceMetric == "" {
			c.add(mp+".performance-metric", "required")
		}
		c.nonNegative(mp+".collection-period", m.CollectionPeriod)
	}
}

// vdu checks one VDU and returns its connection points by id.
func (c *checker) vdu(p string, vdu *VDU, computes map[string]*VirtualComputeDesc, images map[string]*SwImageDesc, links map[string]*IntVirtualLinkDesc) map[string]*IntCpd {
	optRef(c, p+".virtual-compute-desc", vdu.VirtualComputeDesc, computes, "virtual-compute-desc")
	optRef(c, p+".sw-image-desc", vdu.SwImageDesc, images, "sw-image-desc")
	// The local VIM runs a program, a cloud VIM boots an image; a VDU with
	// neither cannot run anywhere.
	if vdu.Program == nil && vdu.SwImageDesc == "" {
		c.add(p, "needs a program (local VIM) or a sw-image-desc (cloud VIM)")
	}
	if vdu.Program != nil && strings.TrimSpace(vdu.Program.Path) == "" {
		c.add(p+".program.path", "required")
	}
	if vdu.Slots < 0 {
		c.add(p+".slots", "must not be negative, got %d", vdu.Slots)
	}
	cpds := index(c, p+".int-cpd", vdu.IntCpds, func(d *IntCpd) string { return d.ID })
	for i, cpd := range vdu.IntCpds {
		optRef(c, fmt.Sprintf("%s.int-cpd[%d].int-virtual-link-desc", p, i), cpd.IntVirtualLinkDesc, links, "int-virtual-link-desc")
	}
	if vdu.HealthCheck != nil {
		c.healthCheck(p+".health-check", vdu.HealthCheck, cpds)
	}
	return cpds
}

func (c *checker) healthCheck(p string, hc *HealthCheck, cpds map[string]*IntCpd) {
	switch hc.Type {
	case "http":
		if hc.Port == 0 {
			c.add(p+".port", "required for an http check")
		}
		if !strings.HasPrefix(hc.Path, "/") {
			c.add(p+".path", "an http check needs a path starting with '/', got %q", hc.Path)
		}
	case "tcp":
		if hc.Port == 0 {
			c.add(p+".port", "required for a tcp check")
		}
	case "process":
	default:
		c.add(p+".type", "%q is not one of http, tcp, process", hc.Type)
	}
	c.port(p+".port", hc.Port)
	optRef(c, p+".cpd", hc.Cpd, cpds, "int-cpd")
	// Zero means "use the default" (SetDefaults); only negative values are
	// mistakes.
	if hc.Interval < 0 {
		c.add(p+".interval", "must be positive, got %s", hc.Interval.Std())
	}
	if hc.Timeout < 0 {
		c.add(p+".timeout", "must be positive, got %s", hc.Timeout.Std())
	}
	if hc.FailureThreshold < 0 {
		c.add(p+".failure-threshold", "must be positive, got %d", hc.FailureThreshold)
	}
}

func (c *checker) extCpd(p string, e ExtCpd, vdus map[string]*VDU, cpdsOf map[string]map[string]*IntCpd) {
	if e.IntCpd == nil {
		c.add(p+".int-cpd", "required: name the vdu-id and cpd this connection point exposes")
	} else if ref(c, p+".int-cpd.vdu-id", e.IntCpd.VduID, vdus, "vdu") != nil {
		switch cpd := e.IntCpd.Cpd; {
		case cpd == "":
			c.add(p+".int-cpd.cpd", "required")
		case cpdsOf[e.IntCpd.VduID][cpd] == nil:
			c.add(p+".int-cpd.cpd", "vdu %q has no int-cpd %q", e.IntCpd.VduID, cpd)
		}
	}
	seen := map[PortRule]int{}
	for i, r := range e.Ports {
		rp := fmt.Sprintf("%s.ports[%d]", p, i)
		if r.Port == 0 {
			c.add(rp+".port", "required")
		}
		c.port(rp+".port", r.Port)
		c.protocol(rp+".protocol", r.Protocol, "tcp", "udp")
		key := PortRule{Port: r.Port, Protocol: cmp.Or(r.Protocol, DefaultProtocol)}
		if j, dup := seen[key]; dup {
			c.add(rp, "duplicate of ports[%d] (%d/%s)", j, key.Port, key.Protocol)
			continue
		}
		seen[key] = i
	}
}

func (c *checker) vnfdFlavour(p string, df *VNFDeploymentFlavour, vdus map[string]*VDU) {
	profiles := index(c, p+".vdu-profile", df.VduProfiles, func(vp *VduProfile) string { return vp.ID })
	for i, vp := range df.VduProfiles {
		pp := fmt.Sprintf("%s.vdu-profile[%d]", p, i)
		if vp.ID != "" && profiles[vp.ID] == &df.VduProfiles[i] {
			ref(c, pp+".id", vp.ID, vdus, "vdu")
		}
		c.bounds(pp, "min-number-of-instances", vp.MinNumberOfInstances, "max-number-of-instances", vp.MaxNumberOfInstances)
		if vp.Slots < 0 {
			c.add(pp+".slots", "must not be negative, got %d", vp.Slots)
		}
	}

	index(c, p+".instantiation-level", df.InstantiationLevels, func(l *InstantiationLevel) string { return l.ID })
	for i, lvl := range df.InstantiationLevels {
		lp := fmt.Sprintf("%s.instantiation-level[%d]", p, i)
		seen := map[string]bool{}
		for j, vl := range lvl.VduLevels {
			vp := fmt.Sprintf("%s.vdu-level[%d]", lp, j)
			if ref(c, vp+".vdu-id", vl.VduID, vdus, "vdu") == nil {
				continue
			}
			if seen[vl.VduID] {
				c.add(vp+".vdu-id", "duplicate vdu-id %q", vl.VduID)
			}
			seen[vl.VduID] = true
			c.levelCount(vp+".number-of-instances", vl.NumberOfInstances, df, vl.VduID)
		}
	}

	index(c, p+".scaling-aspect", df.ScalingAspects, func(a *ScalingAspect) string { return a.ID })
	for i, a := range df.ScalingAspects {
		ap := fmt.Sprintf("%s.scaling-aspect[%d]", p, i)
		if a.MaxScaleLevel < 0 {
			c.add(ap+".max-scale-level", "must not be negative, got %d", a.MaxScaleLevel)
		}
		// A scaling policy steps by the aspect's delta; an aspect without
		// one cannot scale anything.
		if a.AspectDeltaDetails == nil || len(a.AspectDeltaDetails.Deltas) == 0 {
			c.add(ap+".aspect-delta-details.deltas", "at least one delta is required")
			continue
		}
		dp := ap + ".aspect-delta-details.deltas"
		index(c, dp, a.AspectDeltaDetails.Deltas, func(d *ScalingDelta) string { return d.ID })
		for j, delta := range a.AspectDeltaDetails.Deltas {
			if len(delta.VduDeltas) == 0 {
				c.add(fmt.Sprintf("%s[%d].vdu-delta", dp, j), "at least one vdu-delta is required")
			}
			for k, vd := range delta.VduDeltas {
				vp := fmt.Sprintf("%s[%d].vdu-delta[%d]", dp, j, k)
				ref(c, vp+".id", vd.ID, vdus, "vdu")
				if vd.NumberOfInstances < 1 {
					c.add(vp+".number-of-instances", "must be at least 1, got %d", vd.NumberOfInstances)
				}
			}
		}
	}
}

// levelCount checks an instantiation level's count against the VDU's
// bounds in the flavour, the same ones the orchestrator uses (Bounds).
func (c *checker) levelCount(path string, n int, df *VNFDeploymentFlavour, vduID string) {
	if n < 0 {
		c.add(path, "must not be negative, got %d", n)
		return
	}
	lo, hi := df.Bounds(vduID)
	source := ""
	if _, ok := df.profile(vduID); !ok {
		source = " (the default without a vdu-profile)"
	}
	if n < lo {
		c.add(path, "%d is below min-number-of-instances %d%s", n, lo, source)
	}
	if hi > 0 && n > hi {
		c.add(path, "%d is above max-number-of-instances %d", n, hi)
	}
}

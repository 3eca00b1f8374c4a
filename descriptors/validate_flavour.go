package descriptors

import (
	"fmt"
	"slices"
	"strings"
)

// Affinity group types and scopes.
const (
	AffinityTypeAffinity     = "affinity"
	AffinityTypeAntiAffinity = "anti-affinity"
	AffinityScopeNode        = "nfvi-node"
	AffinityScopeZone        = "zone"
)

// nsFlavour checks one NSD deployment flavour and returns its resolved
// constituents.
func (c *checker) nsFlavour(p string, df *NSDeploymentFlavour, scope *nsdScope) nsFlavour {
	f := nsFlavour{df: df, constituents: map[string]*constituent{}}
	if len(df.VnfProfiles) == 0 {
		c.add(p+".vnf-profile", "at least one vnf-profile is required")
	}
	profiles := index(c, p+".vnf-profile", df.VnfProfiles, func(vp *VnfProfile) string { return vp.ID })
	for i := range df.VnfProfiles {
		con := c.vnfProfile(fmt.Sprintf("%s.vnf-profile[%d]", p, i), &df.VnfProfiles[i], scope)
		con.index = i
		if profiles[con.profile.ID] == con.profile {
			f.constituents[con.profile.ID] = con
		}
	}

	linkProfiles := index(c, p+".virtual-link-profile", df.VirtualLinkProfiles, func(l *VirtualLinkProfile) string { return l.ID })
	for i, l := range df.VirtualLinkProfiles {
		ref(c, fmt.Sprintf("%s.virtual-link-profile[%d].virtual-link-desc-id", p, i), l.VirtualLinkDescID, scope.links, "virtual-link-desc")
	}
	groups := index(c, p+".affinity-or-anti-affinity-group", df.AffinityOrAntiAffinityGroups, func(g *AffinityGroup) string { return g.ID })
	for i, g := range df.AffinityOrAntiAffinityGroups {
		gp := fmt.Sprintf("%s.affinity-or-anti-affinity-group[%d]", p, i)
		if g.Type != AffinityTypeAffinity && g.Type != AffinityTypeAntiAffinity {
			c.add(gp+".type", "%q is not one of %s, %s", g.Type, AffinityTypeAffinity, AffinityTypeAntiAffinity)
		}
		if g.Scope != AffinityScopeNode && g.Scope != AffinityScopeZone {
			c.add(gp+".scope", "%q is not one of %s, %s", g.Scope, AffinityScopeNode, AffinityScopeZone)
		}
	}

	attached := map[ConstituentCpd]string{} // a CP sits on one virtual link
	for i := range df.VnfProfiles {
		vp := &df.VnfProfiles[i]
		pp := fmt.Sprintf("%s.vnf-profile[%d]", p, i)
		c.connectivity(pp, vp, f, linkProfiles, scope, attached)
		c.profileRefs(pp, vp, f, groups)
	}
	c.dependencyCycles(p, f)
	c.affinityConflicts(p, df, groups)
	index(c, p+".scaling-policy", df.ScalingPolicies, func(sp *ScalingPolicy) string { return sp.ID })
	for i, sp := range df.ScalingPolicies {
		c.scalingPolicy(fmt.Sprintf("%s.scaling-policy[%d]", p, i), sp, f)
	}
	c.policyConflicts(p, df.ScalingPolicies)
	return f
}

// vnfProfile checks what a vnf-profile says about itself and resolves its
// VNFD and that VNFD's flavour.
func (c *checker) vnfProfile(pp string, vp *VnfProfile, scope *nsdScope) *constituent {
	con := &constituent{profile: vp}
	if vp.VnfdID == "" {
		c.add(pp+".vnfd-id", "required")
	} else if con.vnfd = scope.catalog[vp.VnfdID]; con.vnfd == nil {
		c.add(pp+".vnfd-id", "unknown VNFD %q", vp.VnfdID)
	} else if !scope.listed[vp.VnfdID] {
		c.add(pp+".vnfd-id", "VNFD %q is not listed in nsd.vnfd-id", vp.VnfdID)
	}
	if con.vnfd != nil {
		fl, ok := con.vnfd.Flavour(vp.FlavourID)
		switch {
		case ok:
			con.flavour = fl
		case vp.FlavourID == "":
			c.add(pp+".flavour-id", "VNFD %q has no df to default to", vp.VnfdID)
		default:
			c.add(pp+".flavour-id", "VNFD %q has no df %q", vp.VnfdID, vp.FlavourID)
		}
	}
	if con.flavour != nil && vp.InstantiationLevel != "" && !hasLevel(con.flavour, vp.InstantiationLevel) {
		c.add(pp+".instantiation-level", "df %q of VNFD %q has no instantiation-level %q", con.flavour.ID, vp.VnfdID, vp.InstantiationLevel)
	}
	c.bounds(pp, "min-number-of-instances", vp.MinNumberOfInstances, "max-number-of-instances", vp.MaxNumberOfInstances)
	for i, site := range vp.Sites {
		c.id(fmt.Sprintf("%s.sites[%d]", pp, i), site)
	}
	c.uniqueStrings(pp+".sites", vp.Sites)
	return con
}

func hasLevel(df *VNFDeploymentFlavour, id string) bool {
	for _, l := range df.InstantiationLevels {
		if l.ID == id {
			return true
		}
	}
	return false
}

// connectivity checks which virtual links a constituent's CPs attach to.
func (c *checker) connectivity(pp string, vp *VnfProfile, f nsFlavour, linkProfiles map[string]*VirtualLinkProfile, scope *nsdScope, attached map[ConstituentCpd]string) {
	seen := map[string]bool{}
	for j, vlc := range vp.VirtualLinkConnectivity {
		cp := fmt.Sprintf("%s.virtual-link-connectivity[%d]", pp, j)
		id := vlc.VirtualLinkProfileID
		switch {
		case id == "":
			c.add(cp+".virtual-link-profile-id", "required")
		case linkProfiles[id] == nil && scope.links[id] == nil:
			// OSM's NSDs name the virtual-link-desc directly when the df
			// declares no virtual-link-profile, so that is accepted too.
			c.add(cp+".virtual-link-profile-id", "unknown virtual-link-profile %q", id)
		case seen[id]:
			c.add(cp+".virtual-link-profile-id", "duplicate virtual-link-profile-id %q", id)
		}
		seen[id] = true
		if len(vlc.ConstituentCpdIDs) == 0 {
			c.add(cp+".constituent-cpd-id", "at least one constituent-cpd-id is required")
		}
		for k, cc := range vlc.ConstituentCpdIDs {
			ccp := fmt.Sprintf("%s.constituent-cpd-id[%d]", cp, k)
			target := ref(c, ccp+".constituent-base-element-id", cc.ConstituentBaseElementID, f.constituents, "vnf-profile")
			if target == nil {
				continue
			}
			c.extCpdOf(ccp+".constituent-cpd-id", cc.ConstituentCpdID, target)
			if other, dup := attached[cc]; dup && other != id && cc.ConstituentCpdID != "" {
				c.add(ccp, "ext-cpd %q of vnf-profile %q is already attached to %q", cc.ConstituentCpdID, cc.ConstituentBaseElementID, other)
			} else if !dup {
				attached[cc] = id
			}
		}
	}
}

// profileRefs checks a vnf-profile's references to other parts of its df.
func (c *checker) profileRefs(pp string, vp *VnfProfile, f nsFlavour, groups map[string]*AffinityGroup) {
	seen := map[string]bool{}
	for k, dep := range vp.DependsOn {
		dp := fmt.Sprintf("%s.depends-on[%d]", pp, k)
		switch {
		case dep == "":
			c.add(dp, "must not be empty")
		case dep == vp.ID:
			c.add(dp, "vnf-profile %q depends on itself", dep)
		case f.constituents[dep] == nil:
			c.add(dp, "unknown vnf-profile %q", dep)
		case seen[dep]:
			c.add(dp, "duplicate entry %q", dep)
		}
		seen[dep] = true
	}
	seenGroups := map[string]bool{}
	for k, g := range vp.AffinityOrAntiAffinityGroupIDs {
		gp := fmt.Sprintf("%s.affinity-or-anti-affinity-group[%d].id", pp, k)
		if ref(c, gp, g.ID, groups, "affinity-or-anti-affinity-group") != nil && seenGroups[g.ID] {
			c.add(gp, "duplicate entry %q", g.ID)
		}
		seenGroups[g.ID] = true
	}
}

// dependencyCycles reports each depends-on cycle once, at the profile with
// the smallest id on it. Self-dependencies are reported by profileRefs.
func (c *checker) dependencyCycles(p string, f nsFlavour) {
	deps := map[string][]string{}
	for id, con := range f.constituents {
		for _, dep := range con.profile.DependsOn {
			if dep != id && f.constituents[dep] != nil {
				deps[id] = append(deps[id], dep)
			}
		}
	}
	for _, cycle := range findCycles(sortedKeys(f.constituents), deps) {
		con := f.constituents[cycle[0]]
		c.add(fmt.Sprintf("%s.vnf-profile[%d].depends-on", p, con.index), "dependency cycle %s", formatCycle(cycle))
	}
}

// affinityConflicts reports two constituents that share an affinity group
// and an anti-affinity group whose scopes cannot both hold: together on a
// node but apart on nodes or zones, or together in a zone but apart in
// zones. (Together in a zone and apart on nodes is satisfiable.)
func (c *checker) affinityConflicts(p string, df *NSDeploymentFlavour, groups map[string]*AffinityGroup) {
	members := map[string][]string{}
	for _, vp := range df.VnfProfiles {
		for _, g := range vp.AffinityOrAntiAffinityGroupIDs {
			if !slices.Contains(members[g.ID], vp.ID) {
				members[g.ID] = append(members[g.ID], vp.ID)
			}
		}
	}
	for _, a := range df.AffinityOrAntiAffinityGroups {
		if a.Type != AffinityTypeAffinity || groups[a.ID] == nil {
			continue
		}
		for j, b := range df.AffinityOrAntiAffinityGroups {
			if b.Type != AffinityTypeAntiAffinity || groups[b.ID] == nil || !scopesConflict(a.Scope, b.Scope) {
				continue
			}
			var both []string
			for _, m := range members[a.ID] {
				if slices.Contains(members[b.ID], m) {
					both = append(both, m)
				}
			}
			if len(both) >= 2 {
				slices.Sort(both)
				c.add(fmt.Sprintf("%s.affinity-or-anti-affinity-group[%d]", p, j),
					"vnf-profiles %q and %q must be together (affinity group %q, scope %s) and apart (scope %s); no placement satisfies both",
					both[0], both[1], a.ID, a.Scope, b.Scope)
			}
		}
	}
}

func scopesConflict(affinity, anti string) bool {
	valid := func(s string) bool { return s == AffinityScopeNode || s == AffinityScopeZone }
	if !valid(affinity) || !valid(anti) {
		return false // reported as an invalid scope instead
	}
	return !(affinity == AffinityScopeZone && anti == AffinityScopeNode)
}

// findCycles returns cycles of a dependency graph, each as the ids along
// it starting at its smallest id, in a deterministic order. It finds at
// least one cycle in every strongly connected part, not every elementary
// cycle (there can be exponentially many). It walks iteratively, so a
// long chain cannot exhaust the stack.
func findCycles(ids []string, deps map[string][]string) [][]string {
	adj := make(map[string][]string, len(deps))
	for id, d := range deps {
		adj[id] = slices.Sorted(slices.Values(d))
	}
	done := map[string]bool{}
	var cycles [][]string
	seenCycle := map[string]bool{}
	for _, start := range ids {
		if done[start] {
			continue
		}
		// Depth-first search with an explicit stack of (node, next edge).
		type frame struct {
			id   string
			next int
		}
		onStack := map[string]int{start: 0}
		stack := []frame{{id: start}}
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			edges := adj[top.id]
			if top.next >= len(edges) {
				done[top.id] = true
				delete(onStack, top.id)
				stack = stack[:len(stack)-1]
				continue
			}
			next := edges[top.next]
			top.next++
			if at, ok := onStack[next]; ok {
				ids := make([]string, 0, len(stack)-at)
				for _, fr := range stack[at:] {
					ids = append(ids, fr.id)
				}
				cycle := rotateToMin(ids)
				if key := strings.Join(cycle, "\x00"); !seenCycle[key] {
					seenCycle[key] = true
					cycles = append(cycles, cycle)
				}
				continue
			}
			if done[next] {
				continue
			}
			onStack[next] = len(stack)
			stack = append(stack, frame{id: next})
		}
	}
	return cycles
}

func rotateToMin(cycle []string) []string {
	m := 0
	for i, id := range cycle {
		if id < cycle[m] {
			m = i
		}
	}
	return append(slices.Clone(cycle[m:]), cycle[:m]...)
}

// formatCycle spells a cycle as "a -> b -> a".
func formatCycle(cycle []string) string {
	return strings.Join(append(slices.Clone(cycle), cycle[0]), " -> ")
}

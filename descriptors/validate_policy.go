package descriptors

import "fmt"

// MetricFreeSlotsRatio is the metric every instance reports (FUSION session
// slots): free slots over all slots. A policy on it keeps the ratio within
// a band instead of comparing against a threshold.
const MetricFreeSlotsRatio = "free-slots-ratio"

// Threshold comparisons of a scaling policy.
const (
	ComparisonGreater = "gt"
	ComparisonLess    = "lt"
)

func (c *checker) scalingPolicy(p string, sp ScalingPolicy, f nsFlavour) {
	con := ref(c, p+".vnf-profile-id", sp.VnfProfileID, f.constituents, "vnf-profile")
	if sp.AspectID == "" {
		c.add(p+".aspect-id", "required")
	} else if con != nil && con.flavour != nil && !hasAspect(con.flavour, sp.AspectID) {
		c.add(p+".aspect-id", "df %q of VNFD %q has no scaling-aspect %q", con.flavour.ID, con.vnfd.ID, sp.AspectID)
	}

	switch {
	case sp.Metric == "":
		c.add(p+".metric", "required")
	case sp.Metric == MetricFreeSlotsRatio:
		if sp.Band == nil {
			c.add(p+".band", "required for metric %s", MetricFreeSlotsRatio)
		} else if b := sp.Band; !(0 <= b.Low && b.Low < b.High && b.High <= 1) {
			c.add(p+".band", "need 0 <= low < high <= 1, got low %g, high %g", b.Low, b.High)
		}
		if sp.Comparison != "" {
			c.add(p+".comparison", "not used with metric %s, which keeps the ratio within band", MetricFreeSlotsRatio)
		}
	default:
		if sp.Comparison != ComparisonGreater && sp.Comparison != ComparisonLess {
			c.add(p+".comparison", "a threshold policy needs %s or %s, got %q", ComparisonGreater, ComparisonLess, sp.Comparison)
		}
		if sp.Band != nil {
			c.add(p+".band", "only used with metric %s", MetricFreeSlotsRatio)
		}
		// A policy on a metric nobody reports would silently never fire.
		if con != nil && con.vnfd != nil && !hasMonitoringParam(con.vnfd, sp.Metric) {
			c.add(p+".metric", "refers to metric %q that nothing reports: it is neither %s nor a monitoring-parameter of VNFD %q", sp.Metric, MetricFreeSlotsRatio, con.vnfd.ID)
		}
	}
	c.bounds(p, "min-instances", sp.MinInstances, "max-instances", sp.MaxInstances)
	c.nonNegative(p+".duration", sp.Duration)
	c.nonNegative(p+".cooldown", sp.Cooldown)
}

func hasAspect(df *VNFDeploymentFlavour, id string) bool {
	for _, a := range df.ScalingAspects {
		if a.ID == id {
			return true
		}
	}
	return false
}

func hasMonitoringParam(v *VNFD, id string) bool {
	for _, m := range v.MonitoringParams {
		if m.ID == id {
			return true
		}
	}
	return false
}

// policyConflicts rejects policies of one constituent that would undo
// each other: two free-slots-ratio bands (each would scale against the
// other's band), or a gt (scale-out) and an lt (scale-in) threshold on one
// metric where some value crosses both — the constituent would flap
// between them.
func (c *checker) policyConflicts(p string, policies []ScalingPolicy) {
	for i, a := range policies {
		for j := i + 1; j < len(policies); j++ {
			b := policies[j]
			if a.VnfProfileID != b.VnfProfileID || a.Metric != b.Metric {
				continue
			}
			path := fmt.Sprintf("%s.scaling-policy[%d]", p, j)
			switch {
			case a.Metric == MetricFreeSlotsRatio:
				c.add(path, "a second %s policy for vnf-profile %q (policy %q has one): their bands would work against each other", MetricFreeSlotsRatio, b.VnfProfileID, a.ID)
			case a.Comparison == b.Comparison:
				c.add(path, "a second %s policy on metric %q for vnf-profile %q (policy %q): keep one", a.Comparison, a.Metric, b.VnfProfileID, a.ID)
			default:
				out, in := a, b
				if a.Comparison == ComparisonLess {
					out, in = b, a
				}
				if in.Threshold > out.Threshold {
					c.add(path, "policies %q (scale out above %g) and %q (scale in below %g) overlap: %s between %g and %g would trigger both", out.ID, out.Threshold, in.ID, in.Threshold, a.Metric, out.Threshold, in.Threshold)
				}
			}
		}
	}
}

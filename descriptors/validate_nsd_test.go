package descriptors

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Each case mutates the valid webchain NSD (or the VNFDs it uses). An empty
// path means the mutation must stay valid. Profiles: [0] firewall (fw),
// [1] frontend (web), [2] database (db).
func TestValidateNSD(t *testing.T) {
	type cat = map[string]*VNFD
	tests := []struct {
		name   string
		mutate func(n *NSD, c cat)
		path   string
		reason string
	}{
		// ids and duplicates
		{"missing id", func(n *NSD, _ cat) { n.ID = "" }, "nsd.id", "required"},
		{"bad id", func(n *NSD, _ cat) { n.ID = "web chain" }, "nsd.id", "not a valid id"},
		{"no vnfd-id", func(n *NSD, _ cat) { n.VnfdIDs = nil }, "nsd.vnfd-id", "at least one VNFD"},
		{"duplicate vnfd-id", func(n *NSD, _ cat) { n.VnfdIDs = append(n.VnfdIDs, "fw") }, "nsd.vnfd-id[3]", `duplicate entry "fw"`},
		{"no df", func(n *NSD, _ cat) { n.DFs = nil; n.Sapds[0].Entry = nil; n.Vnffgds = nil }, "nsd.df", "at least one df"},
		{"duplicate df", func(n *NSD, _ cat) { n.DFs = append(n.DFs, n.DFs[0]) }, "nsd.df[1].id", "duplicate id"},
		{"duplicate vnf-profile", func(n *NSD, _ cat) { n.DFs[0].VnfProfiles[2].ID = "frontend" }, "nsd.df[0].vnf-profile[2].id", `duplicate id "frontend"`},
		{"no vnf-profile", func(n *NSD, _ cat) { n.DFs[0] = NSDeploymentFlavour{ID: "default"} }, "nsd.df[0].vnf-profile", "at least one vnf-profile"},
		{"duplicate virtual-link-desc", func(n *NSD, _ cat) { n.VirtualLinkDescs[1].ID = "access" }, "nsd.virtual-link-desc[1].id", "duplicate id"},
		{"duplicate sapd", func(n *NSD, _ cat) { n.Sapds = append(n.Sapds, n.Sapds[0]) }, "nsd.sapd[1].id", "duplicate id"},
		{"duplicate vnffgd", func(n *NSD, _ cat) { n.Vnffgds = append(n.Vnffgds, n.Vnffgds[0]) }, "nsd.vnffgd[1].id", "duplicate id"},
		{"duplicate nfpd", func(n *NSD, _ cat) { n.Vnffgds[0].Nfpd = append(n.Vnffgds[0].Nfpd, n.Vnffgds[0].Nfpd[0]) }, "nsd.vnffgd[0].nfpd[1].id", "duplicate id"},
		{"duplicate virtual-link-profile", func(n *NSD, _ cat) { n.DFs[0].VirtualLinkProfiles[1].ID = "access-vl" }, "nsd.df[0].virtual-link-profile[1].id", "duplicate id"},
		{"duplicate affinity group", func(n *NSD, _ cat) { n.DFs[0].AffinityOrAntiAffinityGroups[1].ID = "spread" }, "nsd.df[0].affinity-or-anti-affinity-group[1].id", "duplicate id"},
		{"duplicate scaling-policy", func(n *NSD, _ cat) { n.DFs[0].ScalingPolicies[1].ID = "fw-slots" }, "nsd.df[0].scaling-policy[1].id", "duplicate id"},

		// VNFD references
		{"unknown VNFD in list", func(n *NSD, _ cat) { n.VnfdIDs = append(n.VnfdIDs, "fw-x") }, "nsd.vnfd-id[3]", `unknown VNFD "fw-x"`},
		{"unknown VNFD in profile", func(n *NSD, _ cat) { n.DFs[0].VnfProfiles[2].VnfdID = "fw-x" }, "nsd.df[0].vnf-profile[2].vnfd-id", `unknown VNFD "fw-x"`},
		{"profile VNFD not listed", func(n *NSD, _ cat) { n.VnfdIDs = n.VnfdIDs[:2] }, "nsd.df[0].vnf-profile[2].vnfd-id", `VNFD "db" is not listed in nsd.vnfd-id`},
		{"missing profile vnfd-id", func(n *NSD, _ cat) { n.DFs[0].VnfProfiles[2].VnfdID = "" }, "nsd.df[0].vnf-profile[2].vnfd-id", "required"},
		{"unknown flavour", func(n *NSD, _ cat) { n.DFs[0].VnfProfiles[0].FlavourID = "gold" }, "nsd.df[0].vnf-profile[0].flavour-id", `VNFD "fw" has no df "gold"`},
		{"no flavour to default to", func(_ *NSD, c cat) { c["db"].DFs = nil }, "nsd.df[0].vnf-profile[2].flavour-id", `VNFD "db" has no df to default to`},
		{"unknown instantiation level", func(n *NSD, _ cat) { n.DFs[0].VnfProfiles[0].InstantiationLevel = "max" }, "nsd.df[0].vnf-profile[0].instantiation-level", `df "default" of VNFD "fw" has no instantiation-level "max"`},

		// virtual links
		{"profile to unknown virtual-link-desc", func(n *NSD, _ cat) { n.DFs[0].VirtualLinkProfiles[0].VirtualLinkDescID = "dmz" }, "nsd.df[0].virtual-link-profile[0].virtual-link-desc-id", `unknown virtual-link-desc "dmz"`},
		{"unknown virtual-link-profile", func(n *NSD, _ cat) {
			n.DFs[0].VnfProfiles[0].VirtualLinkConnectivity[0].VirtualLinkProfileID = "dmz-vl"
		}, "nsd.df[0].vnf-profile[0].virtual-link-connectivity[0].virtual-link-profile-id", `unknown virtual-link-profile "dmz-vl"`},
		{"OSM: connectivity names the link desc", func(n *NSD, _ cat) {
			n.DFs[0].VnfProfiles[0].VirtualLinkConnectivity[0].VirtualLinkProfileID = "access"
		}, "", ""},
		{"connectivity to unknown profile", func(n *NSD, _ cat) {
			n.DFs[0].VnfProfiles[0].VirtualLinkConnectivity[0].ConstituentCpdIDs[0].ConstituentBaseElementID = "lb"
		}, "nsd.df[0].vnf-profile[0].virtual-link-connectivity[0].constituent-cpd-id[0].constituent-base-element-id", `unknown vnf-profile "lb"`},
		{"connectivity to unknown ext-cpd", func(n *NSD, _ cat) {
			n.DFs[0].VnfProfiles[0].VirtualLinkConnectivity[0].ConstituentCpdIDs[0].ConstituentCpdID = "eth9"
		}, "nsd.df[0].vnf-profile[0].virtual-link-connectivity[0].constituent-cpd-id[0].constituent-cpd-id", `VNFD "fw" has no ext-cpd "eth9"`},
		{"connectivity without cps", func(n *NSD, _ cat) { n.DFs[0].VnfProfiles[0].VirtualLinkConnectivity[0].ConstituentCpdIDs = nil }, "nsd.df[0].vnf-profile[0].virtual-link-connectivity[0].constituent-cpd-id", "at least one"},
		{"cp on two links", func(n *NSD, _ cat) {
			vlc := &n.DFs[0].VnfProfiles[0].VirtualLinkConnectivity[0]
			vlc.ConstituentCpdIDs = append(vlc.ConstituentCpdIDs, ConstituentCpd{"frontend", "http-ext"})
		}, "nsd.df[0].vnf-profile[1].virtual-link-connectivity[0].constituent-cpd-id[0]", `ext-cpd "http-ext" of vnf-profile "frontend" is already attached to "access-vl"`},
		{"bad link cidr", func(n *NSD, _ cat) { n.VirtualLinkDescs[0].CIDR = "192.0.2.0" }, "nsd.virtual-link-desc[0].cidr", "is not a CIDR"},

		// service access points
		{"sapd unknown link", func(n *NSD, _ cat) { n.Sapds[0].VirtualLinkDesc = "dmz" }, "nsd.sapd[0].virtual-link-desc", `unknown virtual-link-desc "dmz"`},
		{"sapd bad address", func(n *NSD, _ cat) { n.Sapds[0].Address = "192.0.2.300" }, "nsd.sapd[0].address", `"192.0.2.300" is not an IP address`},
		{"sapd address outside link", func(n *NSD, _ cat) { n.Sapds[0].Address = "192.0.3.1" }, "nsd.sapd[0].address", `192.0.3.1 is outside 192.0.2.0/24, the cidr of virtual-link-desc "access"`},
		{"sapd ipv6 address on ipv4 link", func(n *NSD, _ cat) { n.Sapds[0].Address = "2001:db8::1" }, "nsd.sapd[0].address", "is outside"},
		{"sapd address without link cidr", func(n *NSD, _ cat) { n.VirtualLinkDescs[0].CIDR = ""; n.Sapds[0].Address = "198.51.100.1" }, "", ""},
		{"sapd port out of range", func(n *NSD, _ cat) { n.Sapds[0].Port = 65536 }, "nsd.sapd[0].port", "outside 1..65535"},
		{"sapd protocol", func(n *NSD, _ cat) { n.Sapds[0].Protocol = "icmp" }, "nsd.sapd[0].protocol", `protocol "icmp" is not one of tcp, udp`},
		{"sapd entry unknown profile", func(n *NSD, _ cat) { n.Sapds[0].Entry.ConstituentBaseElementID = "lb" }, "nsd.sapd[0].entry.constituent-base-element-id", `unknown vnf-profile "lb"`},
		{"sapd entry unknown cpd", func(n *NSD, _ cat) { n.Sapds[0].Entry.ConstituentCpdID = "eth9" }, "nsd.sapd[0].entry.constituent-cpd-id", `VNFD "fw" has no ext-cpd "eth9"`},

		// forwarding graphs
		{"vnffgd without nfpd", func(n *NSD, _ cat) { n.Vnffgds[0].Nfpd = nil }, "nsd.vnffgd[0].nfpd", "at least one nfpd"},
		{"nfpd without positions", func(n *NSD, _ cat) { n.Vnffgds[0].Nfpd[0].Positions = nil }, "nsd.vnffgd[0].nfpd[0].position", "at least one position"},
		{"duplicate order", func(n *NSD, _ cat) { n.Vnffgds[0].Nfpd[0].Positions[1].Order = 1 }, "nsd.vnffgd[0].nfpd[0].position[1].order", "duplicate order 1 (also position[0])"},
		{"order zero", func(n *NSD, _ cat) { n.Vnffgds[0].Nfpd[0].Positions[0].Order = 0 }, "nsd.vnffgd[0].nfpd[0].position[0].order", "must be positive"},
		{"position unknown profile", func(n *NSD, _ cat) { n.Vnffgds[0].Nfpd[0].Positions[0].VnfProfileID = "lb" }, "nsd.vnffgd[0].nfpd[0].position[0].vnf-profile-id", `unknown vnf-profile "lb"`},
		{"position unknown ingress", func(n *NSD, _ cat) { n.Vnffgds[0].Nfpd[0].Positions[0].IngressCpdID = "eth9" }, "nsd.vnffgd[0].nfpd[0].position[0].ingress-cpd-id", `VNFD "fw" has no ext-cpd "eth9"`},
		{"position missing ingress", func(n *NSD, _ cat) { n.Vnffgds[0].Nfpd[0].Positions[0].IngressCpdID = "" }, "nsd.vnffgd[0].nfpd[0].position[0].ingress-cpd-id", "required"},
		{"position unknown egress", func(n *NSD, _ cat) { n.Vnffgds[0].Nfpd[0].Positions[1].EgressCpdID = "eth9" }, "nsd.vnffgd[0].nfpd[0].position[1].egress-cpd-id", `VNFD "web" has no ext-cpd "eth9"`},
		{"position missing in another df", func(n *NSD, _ cat) {
			n.DFs = append(n.DFs, NSDeploymentFlavour{ID: "small", VnfProfiles: []VnfProfile{n.DFs[0].VnfProfiles[1], n.DFs[0].VnfProfiles[2]}})
			n.DFs[1].VnfProfiles[0].VirtualLinkConnectivity = nil
			n.DFs[1].VnfProfiles[0].AffinityOrAntiAffinityGroupIDs = nil
			n.DFs[1].VnfProfiles[1].VirtualLinkConnectivity = nil
			n.DFs[1].VnfProfiles[1].AffinityOrAntiAffinityGroupIDs = nil
		}, "nsd.vnffgd[0].nfpd[0].position[0].vnf-profile-id", `unknown vnf-profile "firewall" in df "small"`},
		{"classifier protocol", func(n *NSD, _ cat) { n.Vnffgds[0].Nfpd[0].MatchAttributes.IPProto = "gre" }, "nsd.vnffgd[0].nfpd[0].match-attributes.ip-proto", `protocol "gre" is not one of tcp, udp, icmp`},
		{"classifier icmp port", func(n *NSD, _ cat) { n.Vnffgds[0].Nfpd[0].MatchAttributes.IPProto = "icmp" }, "nsd.vnffgd[0].nfpd[0].match-attributes.destination-port", "icmp has no ports"},
		{"classifier icmp", func(n *NSD, _ cat) {
			n.Vnffgds[0].Nfpd[0].MatchAttributes = MatchAttributes{IPProto: "icmp", SourceIPAddress: "198.51.100.7"}
		}, "", ""},
		{"classifier bad address", func(n *NSD, _ cat) { n.Vnffgds[0].Nfpd[0].MatchAttributes.SourceIPAddress = "any" }, "nsd.vnffgd[0].nfpd[0].match-attributes.source-ip-address", `"any" is not an IP address or CIDR`},
		{"classifier host bits", func(n *NSD, _ cat) { n.Vnffgds[0].Nfpd[0].MatchAttributes.DestinationIPAddress = "192.0.2.10/24" }, "nsd.vnffgd[0].nfpd[0].match-attributes.destination-ip-address", "not a network address"},
		{"classifier port", func(n *NSD, _ cat) { n.Vnffgds[0].Nfpd[0].MatchAttributes.DestinationPort = -80 }, "nsd.vnffgd[0].nfpd[0].match-attributes.destination-port", "outside 1..65535"},

		// dependencies
		{"self dependency", func(n *NSD, _ cat) { n.DFs[0].VnfProfiles[0].DependsOn = []string{"firewall"} }, "nsd.df[0].vnf-profile[0].depends-on[0]", `vnf-profile "firewall" depends on itself`},
		{"unknown dependency", func(n *NSD, _ cat) { n.DFs[0].VnfProfiles[0].DependsOn = []string{"cache"} }, "nsd.df[0].vnf-profile[0].depends-on[0]", `unknown vnf-profile "cache"`},
		{"duplicate dependency", func(n *NSD, _ cat) { n.DFs[0].VnfProfiles[0].DependsOn = []string{"frontend", "frontend"} }, "nsd.df[0].vnf-profile[0].depends-on[1]", `duplicate entry "frontend"`},
		{"dependency cycle", func(n *NSD, _ cat) { n.DFs[0].VnfProfiles[2].DependsOn = []string{"firewall"} }, "nsd.df[0].vnf-profile[2].depends-on", "dependency cycle database -> firewall -> frontend -> database"},
		{"two-profile cycle", func(n *NSD, _ cat) { n.DFs[0].VnfProfiles[1].DependsOn = []string{"firewall"} }, "nsd.df[0].vnf-profile[0].depends-on", "dependency cycle firewall -> frontend -> firewall"},

		// placement
		{"bad site", func(n *NSD, _ cat) { n.DFs[0].VnfProfiles[0].Sites[1] = "edge 2" }, "nsd.df[0].vnf-profile[0].sites[1]", "not a valid id"},
		{"duplicate site", func(n *NSD, _ cat) { n.DFs[0].VnfProfiles[0].Sites[1] = "edge-1" }, "nsd.df[0].vnf-profile[0].sites[1]", `duplicate entry "edge-1"`},
		{"profile min above max", func(n *NSD, _ cat) {
			n.DFs[0].VnfProfiles[0].MinNumberOfInstances = 2
			n.DFs[0].VnfProfiles[0].MaxNumberOfInstances = 1
		}, "nsd.df[0].vnf-profile[0]", "min-number-of-instances 2 > max-number-of-instances 1"},
		{"unknown affinity group", func(n *NSD, _ cat) { n.DFs[0].VnfProfiles[0].AffinityOrAntiAffinityGroupIDs[0].ID = "apart" }, "nsd.df[0].vnf-profile[0].affinity-or-anti-affinity-group[0].id", `unknown affinity-or-anti-affinity-group "apart"`},
		{"affinity group listed twice", func(n *NSD, _ cat) {
			vp := &n.DFs[0].VnfProfiles[0]
			vp.AffinityOrAntiAffinityGroupIDs = append(vp.AffinityOrAntiAffinityGroupIDs, vp.AffinityOrAntiAffinityGroupIDs[0])
		}, "nsd.df[0].vnf-profile[0].affinity-or-anti-affinity-group[1].id", `duplicate entry "spread"`},
		{"affinity type", func(n *NSD, _ cat) { n.DFs[0].AffinityOrAntiAffinityGroups[0].Type = "apart" }, "nsd.df[0].affinity-or-anti-affinity-group[0].type", `"apart" is not one of affinity, anti-affinity`},
		{"affinity scope", func(n *NSD, _ cat) { n.DFs[0].AffinityOrAntiAffinityGroups[0].Scope = "rack" }, "nsd.df[0].affinity-or-anti-affinity-group[0].scope", `"rack" is not one of nfvi-node, zone`},
		{"together and apart on nodes", func(n *NSD, _ cat) {
			n.DFs[0].AffinityOrAntiAffinityGroups[1].Scope = AffinityScopeNode
			n.DFs[0].VnfProfiles[2].AffinityOrAntiAffinityGroupIDs = append(n.DFs[0].VnfProfiles[2].AffinityOrAntiAffinityGroupIDs, AffinityGroupRef{"spread"})
		}, "nsd.df[0].affinity-or-anti-affinity-group[0]", `vnf-profiles "database" and "frontend" must be together (affinity group "near-db", scope nfvi-node) and apart (scope nfvi-node)`},
		{"together in a zone, apart on nodes", func(n *NSD, _ cat) {
			n.DFs[0].VnfProfiles[2].AffinityOrAntiAffinityGroupIDs = append(n.DFs[0].VnfProfiles[2].AffinityOrAntiAffinityGroupIDs, AffinityGroupRef{"spread"})
		}, "", ""},
		{"together in a zone, apart in zones", func(n *NSD, _ cat) {
			n.DFs[0].AffinityOrAntiAffinityGroups[0].Scope = AffinityScopeZone
			n.DFs[0].VnfProfiles[2].AffinityOrAntiAffinityGroupIDs = append(n.DFs[0].VnfProfiles[2].AffinityOrAntiAffinityGroupIDs, AffinityGroupRef{"spread"})
		}, "nsd.df[0].affinity-or-anti-affinity-group[0]", "no placement satisfies both"},

		// scaling policies; [0] fw-slots (free-slots-ratio), [1] web-rps (threshold)
		{"policy unknown profile", func(n *NSD, _ cat) { n.DFs[0].ScalingPolicies[0].VnfProfileID = "lb" }, "nsd.df[0].scaling-policy[0].vnf-profile-id", `unknown vnf-profile "lb"`},
		{"policy unknown aspect", func(n *NSD, _ cat) { n.DFs[0].ScalingPolicies[0].AspectID = "web-scale" }, "nsd.df[0].scaling-policy[0].aspect-id", `df "default" of VNFD "fw" has no scaling-aspect "web-scale"`},
		{"policy missing aspect", func(n *NSD, _ cat) { n.DFs[0].ScalingPolicies[0].AspectID = "" }, "nsd.df[0].scaling-policy[0].aspect-id", "required"},
		{"policy missing metric", func(n *NSD, _ cat) { n.DFs[0].ScalingPolicies[1].Metric = "" }, "nsd.df[0].scaling-policy[1].metric", "required"},
		{"slots policy without band", func(n *NSD, _ cat) { n.DFs[0].ScalingPolicies[0].Band = nil }, "nsd.df[0].scaling-policy[0].band", "required for metric free-slots-ratio"},
		{"inverted band", func(n *NSD, _ cat) { n.DFs[0].ScalingPolicies[0].Band = &Band{Low: 0.8, High: 0.2} }, "nsd.df[0].scaling-policy[0].band", "need 0 <= low < high <= 1, got low 0.8, high 0.2"},
		{"band above 1", func(n *NSD, _ cat) { n.DFs[0].ScalingPolicies[0].Band.High = 1.5 }, "nsd.df[0].scaling-policy[0].band", "need 0 <= low < high <= 1"},
		{"negative band", func(n *NSD, _ cat) { n.DFs[0].ScalingPolicies[0].Band.Low = -0.1 }, "nsd.df[0].scaling-policy[0].band", "need 0 <= low < high <= 1"},
		{"slots policy with comparison", func(n *NSD, _ cat) { n.DFs[0].ScalingPolicies[0].Comparison = "gt" }, "nsd.df[0].scaling-policy[0].comparison", "not used with metric free-slots-ratio"},
		{"threshold policy comparison", func(n *NSD, _ cat) { n.DFs[0].ScalingPolicies[1].Comparison = "ge" }, "nsd.df[0].scaling-policy[1].comparison", `needs gt or lt, got "ge"`},
		{"threshold policy with band", func(n *NSD, _ cat) { n.DFs[0].ScalingPolicies[1].Band = &Band{Low: 0.1, High: 0.2} }, "nsd.df[0].scaling-policy[1].band", "only used with metric free-slots-ratio"},
		{"metric nothing reports", func(n *NSD, _ cat) { n.DFs[0].ScalingPolicies[1].Metric = "latency" }, "nsd.df[0].scaling-policy[1].metric", `refers to metric "latency" that nothing reports`},
		{"metric of another VNFD", func(n *NSD, _ cat) { n.DFs[0].ScalingPolicies[1].Metric = "fw-cpu" }, "nsd.df[0].scaling-policy[1].metric", `monitoring-parameter of VNFD "web"`},
		{"policy min above max", func(n *NSD, _ cat) { n.DFs[0].ScalingPolicies[0].MinInstances = 5 }, "nsd.df[0].scaling-policy[0]", "min-instances 5 > max-instances 4"},
		{"negative cooldown", func(n *NSD, _ cat) { n.DFs[0].ScalingPolicies[0].Cooldown = -1 }, "nsd.df[0].scaling-policy[0].cooldown", "must not be negative"},
		{"negative duration", func(n *NSD, _ cat) { n.DFs[0].ScalingPolicies[1].Duration = -1 }, "nsd.df[0].scaling-policy[1].duration", "must not be negative"},
		{"two slot bands", func(n *NSD, _ cat) {
			second := n.DFs[0].ScalingPolicies[0]
			second.ID = "fw-slots-2"
			n.DFs[0].ScalingPolicies = append(n.DFs[0].ScalingPolicies, second)
		}, "nsd.df[0].scaling-policy[2]", "their bands would work against each other"},
		{"overlapping out and in thresholds", func(n *NSD, _ cat) {
			in := n.DFs[0].ScalingPolicies[1] // web-rps, gt
			in.ID, in.Comparison, in.Threshold = "web-rps-in", ComparisonLess, in.Threshold+1
			n.DFs[0].ScalingPolicies = append(n.DFs[0].ScalingPolicies, in)
		}, "nsd.df[0].scaling-policy[2]", "would trigger both"},
		{"out and in thresholds apart", func(n *NSD, _ cat) {
			in := n.DFs[0].ScalingPolicies[1]
			in.ID, in.Comparison, in.Threshold = "web-rps-in", ComparisonLess, in.Threshold/4
			n.DFs[0].ScalingPolicies = append(n.DFs[0].ScalingPolicies, in)
		}, "", ""},
		{"two scale-out thresholds", func(n *NSD, _ cat) {
			again := n.DFs[0].ScalingPolicies[1]
			again.ID = "web-rps-2"
			n.DFs[0].ScalingPolicies = append(n.DFs[0].ScalingPolicies, again)
		}, "nsd.df[0].scaling-policy[2]", "keep one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := webchain(t)
			c := catalogOf(doc)
			n := &doc.NSDs[0]
			tt.mutate(n, c)
			err := ValidateNSD(n, c)
			if tt.path == "" {
				if err != nil {
					t.Errorf("want valid, got:\n%v", err)
				}
				return
			}
			wantProblem(t, err, tt.path, tt.reason)
		})
	}
}

func TestValidateNSDReportsEverythingAtOnce(t *testing.T) {
	doc := webchain(t)
	n := &doc.NSDs[0]
	n.DFs[0].VnfProfiles[2].VnfdID = "fw-x"
	n.Sapds[0].Address = "10.0.0.1"
	n.Vnffgds[0].Nfpd[0].Positions[1].Order = 1
	n.DFs[0].ScalingPolicies[1].Metric = "latency"
	want := []Problem{
		{"nsd.df[0].vnf-profile[2].vnfd-id", `unknown VNFD "fw-x"`},
		{"nsd.sapd[0].address", "is outside"},
		{"nsd.vnffgd[0].nfpd[0].position[1].order", "duplicate order 1"},
		{"nsd.df[0].scaling-policy[1].metric", "nothing reports"},
	}
	err := ValidateNSD(n, catalogOf(doc))
	for _, p := range want {
		wantProblem(t, err, p.Path, p.Reason)
	}
	if got := len(problemsOf(t, err)); got != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", got, len(want), err)
	}
}

// Without VNFDs nothing that depends on them can be checked, and every VNFD
// reference is reported instead of being assumed to be fine.
func TestValidateNSDWithoutCatalog(t *testing.T) {
	doc := webchain(t)
	err := ValidateNSD(&doc.NSDs[0], nil)
	for i, id := range []string{"fw", "web", "db"} {
		reason := fmt.Sprintf("unknown VNFD %q", id)
		wantProblem(t, err, fmt.Sprintf("nsd.vnfd-id[%d]", i), reason)
		wantProblem(t, err, fmt.Sprintf("nsd.df[0].vnf-profile[%d].vnfd-id", i), reason)
	}
	if got := len(problemsOf(t, err)); got != 6 {
		t.Errorf("got %d problems, want only the 6 unknown VNFDs:\n%v", got, err)
	}
}

func TestValidateNSDNil(t *testing.T) {
	wantProblem(t, ValidateNSD(nil, nil), "nsd", "missing")
}

func TestValidationErrorFormat(t *testing.T) {
	err := error(&ValidationError{Problems: []Problem{
		{"nsd.id", "required"},
		{"", "document-wide"},
		{"vnfd.vdu[0]", "needs a program"},
	}})
	if want := "nsd.id: required\ndocument-wide\nvnfd.vdu[0]: needs a program"; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	wrapped := errors.Join(errors.New("onboarding"), err)
	if !errors.Is(wrapped, ErrInvalid) {
		t.Error("a wrapped ValidationError does not match ErrInvalid")
	}
	if errors.Is(err, ErrNotFound) {
		t.Error("ValidationError matches ErrNotFound")
	}
	if !strings.Contains((&ValidationError{}).Error(), "invalid") {
		t.Error("an empty ValidationError says nothing")
	}
}

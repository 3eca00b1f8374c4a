package descriptors

import (
	"strings"
	"testing"
)

func TestWebchainSampleIsValid(t *testing.T) {
	doc := webchain(t)
	for i := range doc.VNFDs {
		if err := ValidateVNFD(&doc.VNFDs[i]); err != nil {
			t.Errorf("ValidateVNFD(%s):\n%v", doc.VNFDs[i].ID, err)
		}
	}
	if err := ValidateNSD(&doc.NSDs[0], catalogOf(doc)); err != nil {
		t.Errorf("ValidateNSD:\n%v", err)
	}
}

// Each case mutates one VNFD of the valid webchain sample. An empty path
// means the mutation must stay valid.
func TestValidateVNFD(t *testing.T) {
	tests := []struct {
		name   string
		vnfd   string
		mutate func(v *VNFD)
		path   string
		reason string
	}{
		// ids
		{"missing id", "fw", func(v *VNFD) { v.ID = "" }, "vnfd.id", "required"},
		{"id with space", "fw", func(v *VNFD) { v.ID = "fw x" }, "vnfd.id", `"fw x" is not a valid id`},
		{"id starting with dash", "fw", func(v *VNFD) { v.ID = "-fw" }, "vnfd.id", "not a valid id"},
		{"id too long", "fw", func(v *VNFD) { v.ID = strings.Repeat("a", 64) }, "vnfd.id", "at most 63"},
		{"63-character id", "fw", func(v *VNFD) { v.ID = strings.Repeat("a", 63) }, "", ""},
		{"OSM-style id", "fw", func(v *VNFD) { v.ID = "Fw_basic-VM.v2" }, "", ""},
		{"missing vdu id", "fw", func(v *VNFD) { v.VDUs[0].ID = "" }, "vnfd.vdu[0].id", "required"},

		// duplicates
		{"duplicate vdu", "fw", func(v *VNFD) { v.VDUs = append(v.VDUs, v.VDUs[0]) }, "vnfd.vdu[1].id", `duplicate id "fw"`},
		{"vdu ids differing in case", "fw", func(v *VNFD) { v.VDUs = append(v.VDUs, v.VDUs[0]); v.VDUs[1].ID = "FW" }, "vnfd.vdu[1].id", `id "FW" differs from "fw" only in letter case`},
		{"duplicate int-cpd", "fw", func(v *VNFD) { v.VDUs[0].IntCpds[1].ID = "in" }, "vnfd.vdu[0].int-cpd[1].id", `duplicate id "in"`},
		{"same int-cpd id in two vdus", "fw", func(v *VNFD) {
			v.VDUs = append(v.VDUs, VDU{ID: "fw2", Program: &Program{Path: "/x"}, IntCpds: []IntCpd{{ID: "in"}}})
		}, "", ""},
		{"duplicate ext-cpd", "fw", func(v *VNFD) { v.ExtCpds[1].ID = "in-ext" }, "vnfd.ext-cpd[1].id", "duplicate id"},
		{"duplicate df", "fw", func(v *VNFD) { v.DFs = append(v.DFs, v.DFs[0]) }, "vnfd.df[1].id", "duplicate id"},
		{"duplicate vdu-profile", "fw", func(v *VNFD) { v.DFs[0].VduProfiles = append(v.DFs[0].VduProfiles, v.DFs[0].VduProfiles[0]) }, "vnfd.df[0].vdu-profile[1].id", "duplicate id"},
		{"duplicate virtual-compute-desc", "fw", func(v *VNFD) { v.VirtualComputeDescs = append(v.VirtualComputeDescs, v.VirtualComputeDescs[0]) }, "vnfd.virtual-compute-desc[1].id", "duplicate id"},
		{"duplicate sw-image-desc", "web", func(v *VNFD) { v.SwImageDescs = append(v.SwImageDescs, v.SwImageDescs[0]) }, "vnfd.sw-image-desc[1].id", "duplicate id"},
		{"duplicate int-virtual-link-desc", "fw", func(v *VNFD) { v.IntVirtualLinkDescs = append(v.IntVirtualLinkDescs, v.IntVirtualLinkDescs[0]) }, "vnfd.int-virtual-link-desc[1].id", "duplicate id"},
		{"duplicate instantiation-level", "fw", func(v *VNFD) {
			v.DFs[0].InstantiationLevels = append(v.DFs[0].InstantiationLevels, v.DFs[0].InstantiationLevels[0])
		}, "vnfd.df[0].instantiation-level[1].id", "duplicate id"},
		{"duplicate scaling-aspect", "fw", func(v *VNFD) { v.DFs[0].ScalingAspects = append(v.DFs[0].ScalingAspects, v.DFs[0].ScalingAspects[0]) }, "vnfd.df[0].scaling-aspect[1].id", "duplicate id"},
		{"duplicate monitoring-parameter", "fw", func(v *VNFD) { v.MonitoringParams = append(v.MonitoringParams, v.MonitoringParams[0]) }, "vnfd.monitoring-parameter[1].id", "duplicate id"},
		{"duplicate vdu-level", "fw", func(v *VNFD) {
			l := &v.DFs[0].InstantiationLevels[0]
			l.VduLevels = append(l.VduLevels, l.VduLevels[0])
		}, "vnfd.df[0].instantiation-level[0].vdu-level[1].vdu-id", `duplicate vdu-id "fw"`},

		// required lists
		{"no vdu", "fw", func(v *VNFD) { v.VDUs = nil; v.ExtCpds = nil; v.DFs[0] = VNFDeploymentFlavour{ID: "d"} }, "vnfd.vdu", "at least one vdu"},
		{"no df", "fw", func(v *VNFD) { v.DFs = nil }, "vnfd.df", "at least one df"},

		// references
		{"unknown virtual-compute-desc", "fw", func(v *VNFD) { v.VDUs[0].VirtualComputeDesc = "huge" }, "vnfd.vdu[0].virtual-compute-desc", `unknown virtual-compute-desc "huge"`},
		{"unknown sw-image-desc", "web", func(v *VNFD) { v.VDUs[0].SwImageDesc = "nope" }, "vnfd.vdu[0].sw-image-desc", `unknown sw-image-desc "nope"`},
		{"unknown int-virtual-link-desc", "fw", func(v *VNFD) { v.VDUs[0].IntCpds[0].IntVirtualLinkDesc = "mgmt" }, "vnfd.vdu[0].int-cpd[0].int-virtual-link-desc", `unknown int-virtual-link-desc "mgmt"`},
		{"ext-cpd unknown vdu", "fw", func(v *VNFD) { v.ExtCpds[0].IntCpd.VduID = "lb" }, "vnfd.ext-cpd[0].int-cpd.vdu-id", `unknown vdu "lb"`},
		{"ext-cpd unknown cpd", "fw", func(v *VNFD) { v.ExtCpds[0].IntCpd.Cpd = "eth9" }, "vnfd.ext-cpd[0].int-cpd.cpd", `vdu "fw" has no int-cpd "eth9"`},
		{"ext-cpd missing cpd", "fw", func(v *VNFD) { v.ExtCpds[0].IntCpd.Cpd = "" }, "vnfd.ext-cpd[0].int-cpd.cpd", "required"},
		{"ext-cpd without int-cpd", "fw", func(v *VNFD) { v.ExtCpds[0].IntCpd = nil }, "vnfd.ext-cpd[0].int-cpd", "required"},
		{"vdu-profile unknown vdu", "fw", func(v *VNFD) { v.DFs[0].VduProfiles[0].ID = "lb" }, "vnfd.df[0].vdu-profile[0].id", `unknown vdu "lb"`},
		{"instantiation level unknown vdu", "fw", func(v *VNFD) { v.DFs[0].InstantiationLevels[0].VduLevels[0].VduID = "lb" }, "vnfd.df[0].instantiation-level[0].vdu-level[0].vdu-id", `unknown vdu "lb"`},
		{"vdu-delta unknown vdu", "fw", func(v *VNFD) { v.DFs[0].ScalingAspects[0].AspectDeltaDetails.Deltas[0].VduDeltas[0].ID = "lb" }, "vnfd.df[0].scaling-aspect[0].aspect-delta-details.deltas[0].vdu-delta[0].id", `unknown vdu "lb"`},
		{"unknown mgmt-cp", "fw", func(v *VNFD) { v.MgmtCp = "mgmt" }, "vnfd.mgmt-cp", `unknown ext-cpd "mgmt"`},
		{"health-check unknown cpd", "fw", func(v *VNFD) { v.VDUs[0].HealthCheck.Cpd = "eth9" }, "vnfd.vdu[0].health-check.cpd", `unknown int-cpd "eth9"`},

		// kind, program, image
		{"unknown kind", "fw", func(v *VNFD) { v.Kind = "container" }, "vnfd.kind", `"container" is not one of vnf, microservice`},
		{"kind left empty", "fw", func(v *VNFD) { v.Kind = "" }, "", ""},
		{"neither program nor image", "fw", func(v *VNFD) { v.VDUs[0].Program = nil }, "vnfd.vdu[0]", "needs a program (local VIM) or a sw-image-desc (cloud VIM)"},
		{"image only (cloud VIM)", "web", func(v *VNFD) { v.VDUs[0].Program = nil }, "", ""},
		{"empty program path", "fw", func(v *VNFD) { v.VDUs[0].Program.Path = " " }, "vnfd.vdu[0].program.path", "required"},

		// networks and ports
		{"malformed cidr", "fw", func(v *VNFD) { v.IntVirtualLinkDescs[0].CIDR = "10.10.0.0/33" }, "vnfd.int-virtual-link-desc[0].cidr", "is not a CIDR"},
		{"cidr host bits set", "fw", func(v *VNFD) { v.IntVirtualLinkDescs[0].CIDR = "10.10.0.1/24" }, "vnfd.int-virtual-link-desc[0].cidr", "not a network address; did you mean 10.10.0.0/24?"},
		{"ipv6 cidr", "fw", func(v *VNFD) { v.IntVirtualLinkDescs[0].CIDR = "2001:db8::/64" }, "", ""},
		{"missing port", "fw", func(v *VNFD) { v.ExtCpds[0].Ports[0].Port = 0 }, "vnfd.ext-cpd[0].ports[0].port", "required"},
		{"port out of range", "fw", func(v *VNFD) { v.ExtCpds[0].Ports[0].Port = 70000 }, "vnfd.ext-cpd[0].ports[0].port", "port 70000 is outside 1..65535"},
		{"unknown protocol", "fw", func(v *VNFD) { v.ExtCpds[0].Ports[0].Protocol = "sctp" }, "vnfd.ext-cpd[0].ports[0].protocol", `protocol "sctp" is not one of tcp, udp`},
		{"udp port", "fw", func(v *VNFD) { v.ExtCpds[0].Ports[0].Protocol = "udp" }, "", ""},
		{"duplicate port rule", "fw", func(v *VNFD) { v.ExtCpds[0].Ports[1] = PortRule{Port: 80} }, "vnfd.ext-cpd[0].ports[1]", "duplicate of ports[0] (80/tcp)"},

		// instances and slots
		{"min above max", "fw", func(v *VNFD) {
			v.DFs[0].VduProfiles[0].MinNumberOfInstances = 3
			v.DFs[0].VduProfiles[0].MaxNumberOfInstances = 2
		}, "vnfd.df[0].vdu-profile[0]", "min-number-of-instances 3 > max-number-of-instances 2"},
		{"negative min", "fw", func(v *VNFD) { v.DFs[0].VduProfiles[0].MinNumberOfInstances = -1 }, "vnfd.df[0].vdu-profile[0]", "min-number-of-instances -1 is negative"},
		{"no max", "fw", func(v *VNFD) { v.DFs[0].VduProfiles[0].MaxNumberOfInstances = 0 }, "", ""},
		{"level above max", "fw", func(v *VNFD) { v.DFs[0].InstantiationLevels[0].VduLevels[0].NumberOfInstances = 5 }, "vnfd.df[0].instantiation-level[0].vdu-level[0].number-of-instances", "5 is above max-number-of-instances 4"},
		{"level below min", "fw", func(v *VNFD) { v.DFs[0].VduProfiles[0].MinNumberOfInstances = 3 }, "vnfd.df[0].instantiation-level[0].vdu-level[0].number-of-instances", "2 is below min-number-of-instances 3"},
		{"level without profile", "fw", func(v *VNFD) {
			v.DFs[0].VduProfiles = nil
			v.DFs[0].InstantiationLevels[0].VduLevels[0].NumberOfInstances = 0
		}, "vnfd.df[0].instantiation-level[0].vdu-level[0].number-of-instances", "0 is below min-number-of-instances 1 (the default without a vdu-profile)"},
		{"negative level", "fw", func(v *VNFD) { v.DFs[0].InstantiationLevels[0].VduLevels[0].NumberOfInstances = -1 }, "vnfd.df[0].instantiation-level[0].vdu-level[0].number-of-instances", "must not be negative"},
		{"negative vdu slots", "fw", func(v *VNFD) { v.VDUs[0].Slots = -1 }, "vnfd.vdu[0].slots", "must not be negative"},
		{"negative profile slots", "fw", func(v *VNFD) { v.DFs[0].VduProfiles[0].Slots = -5 }, "vnfd.df[0].vdu-profile[0].slots", "must not be negative"},

		// health checks
		{"unknown health-check type", "fw", func(v *VNFD) { v.VDUs[0].HealthCheck.Type = "grpc" }, "vnfd.vdu[0].health-check.type", `"grpc" is not one of http, tcp, process`},
		{"http without port", "web", func(v *VNFD) { v.VDUs[0].HealthCheck.Port = 0 }, "vnfd.vdu[0].health-check.port", "required for an http check"},
		{"http path without slash", "web", func(v *VNFD) { v.VDUs[0].HealthCheck.Path = "healthz" }, "vnfd.vdu[0].health-check.path", "starting with '/'"},
		{"tcp without port", "fw", func(v *VNFD) { v.VDUs[0].HealthCheck.Port = 0 }, "vnfd.vdu[0].health-check.port", "required for a tcp check"},
		{"health-check port out of range", "fw", func(v *VNFD) { v.VDUs[0].HealthCheck.Port = 65536 }, "vnfd.vdu[0].health-check.port", "outside 1..65535"},
		{"negative interval", "fw", func(v *VNFD) { v.VDUs[0].HealthCheck.Interval = -1 }, "vnfd.vdu[0].health-check.interval", "must be positive"},
		{"negative timeout", "fw", func(v *VNFD) { v.VDUs[0].HealthCheck.Timeout = -1 }, "vnfd.vdu[0].health-check.timeout", "must be positive"},
		{"negative threshold", "fw", func(v *VNFD) { v.VDUs[0].HealthCheck.FailureThreshold = -1 }, "vnfd.vdu[0].health-check.failure-threshold", "must be positive"},

		// compute
		{"no vcpu", "fw", func(v *VNFD) { v.VirtualComputeDescs[0].VirtualCPU.NumVirtualCPU = 0 }, "vnfd.virtual-compute-desc[0].virtual-cpu.num-virtual-cpu", "at least 1"},
		{"no memory", "fw", func(v *VNFD) { v.VirtualComputeDescs[0].VirtualMemory.Size = 0 }, "vnfd.virtual-compute-desc[0].virtual-memory.size", "more than 0"},
		{"absurd memory", "fw", func(v *VNFD) { v.VirtualComputeDescs[0].VirtualMemory.Size = 1e300 }, "vnfd.virtual-compute-desc[0].virtual-memory.size", "at most"},

		// scaling aspects and monitoring
		{"aspect without deltas", "fw", func(v *VNFD) { v.DFs[0].ScalingAspects[0].AspectDeltaDetails = nil }, "vnfd.df[0].scaling-aspect[0].aspect-delta-details.deltas", "at least one delta"},
		{"delta without vdu-delta", "fw", func(v *VNFD) { v.DFs[0].ScalingAspects[0].AspectDeltaDetails.Deltas[0].VduDeltas = nil }, "vnfd.df[0].scaling-aspect[0].aspect-delta-details.deltas[0].vdu-delta", "at least one vdu-delta"},
		{"zero-instance delta", "fw", func(v *VNFD) {
			v.DFs[0].ScalingAspects[0].AspectDeltaDetails.Deltas[0].VduDeltas[0].NumberOfInstances = 0
		}, "vnfd.df[0].scaling-aspect[0].aspect-delta-details.deltas[0].vdu-delta[0].number-of-instances", "at least 1"},
		{"negative max-scale-level", "fw", func(v *VNFD) { v.DFs[0].ScalingAspects[0].MaxScaleLevel = -1 }, "vnfd.df[0].scaling-aspect[0].max-scale-level", "must not be negative"},
		{"metric without performance-metric", "fw", func(v *VNFD) { v.MonitoringParams[0].PerformanceMetric = "" }, "vnfd.monitoring-parameter[0].performance-metric", "required"},
		{"negative collection period", "fw", func(v *VNFD) { v.MonitoringParams[0].CollectionPeriod = -1 }, "vnfd.monitoring-parameter[0].collection-period", "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := vnfdByID(t, webchain(t), tt.vnfd)
			tt.mutate(v)
			err := ValidateVNFD(v)
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

func TestValidateVNFDReportsEverythingAtOnce(t *testing.T) {
	v := vnfdByID(t, webchain(t), "fw")
	v.ID = "Bad ID"
	v.VDUs[0].VirtualComputeDesc = "huge"
	v.DFs[0].VduProfiles[0].MinNumberOfInstances = 9
	v.ExtCpds[0].Ports[0].Port = -1
	want := []Problem{
		{"vnfd.id", `"Bad ID" is not a valid id`},
		{"vnfd.vdu[0].virtual-compute-desc", `unknown virtual-compute-desc "huge"`},
		{"vnfd.ext-cpd[0].ports[0].port", "outside 1..65535"},
		{"vnfd.df[0].vdu-profile[0]", "min-number-of-instances 9 > max-number-of-instances 4"},
		{"vnfd.df[0].instantiation-level[0].vdu-level[0].number-of-instances", "2 is below min-number-of-instances 9"},
	}
	err := ValidateVNFD(v)
	for _, p := range want {
		wantProblem(t, err, p.Path, p.Reason)
	}
	if got := len(problemsOf(t, err)); got != len(want) {
		t.Errorf("got %d problems, want %d:\n%v", got, len(want), err)
	}
}

func TestValidateVNFDNil(t *testing.T) {
	wantProblem(t, ValidateVNFD(nil), "vnfd", "missing")
}

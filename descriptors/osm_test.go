package descriptors

import (
	"reflect"
	"testing"
)

// OSM publishes SOL006 descriptors with fields stitch does not model. They
// must load, report exactly those fields, and validate for a cloud VIM.
func TestOSMSamplesLoadWithWarnings(t *testing.T) {
	tests := []struct {
		file         string
		wantWarnings []string
	}{
		{"hackfest_basic_vnfd.yaml", []string{
			"vnfd.vdu[0].cloud-init-file",
			"vnfd.vdu[0].int-cpd[0].virtual-network-interface-requirement",
			"vnfd.vdu[0].virtual-storage-desc",
			"vnfd.virtual-storage-desc",
		}},
		{"hackfest_basic_metrics_vnfd.yaml", []string{
			"vnfd.df[0].lcm-operations-configuration",
			"vnfd.df[0].scaling-aspect[0].scaling-policy",
			"vnfd.vdu[0].int-cpd[0].virtual-network-interface-requirement",
			"vnfd.vdu[0].monitoring-parameter",
			"vnfd.vdu[0].virtual-storage-desc",
			"vnfd.virtual-storage-desc",
		}},
		{"hackfest_basic_nsd.yaml", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, warnings := mustParse(t, readTestdata(t, "osm/"+tt.file))
			var paths []string
			for _, w := range warnings {
				if w.Message != unusedField {
					t.Errorf("warning %v: unexpected message", w)
				}
				paths = append(paths, w.Path)
			}
			if !reflect.DeepEqual(paths, tt.wantWarnings) {
				t.Errorf("warnings at\n %q\nwant\n %q", paths, tt.wantWarnings)
			}
		})
	}
}

func TestOSMHackfestBasic(t *testing.T) {
	vdoc, _ := mustParse(t, readTestdata(t, "osm/hackfest_basic_vnfd.yaml"))
	ndoc, _ := mustParse(t, readTestdata(t, "osm/hackfest_basic_nsd.yaml"))
	v := &vdoc.VNFDs[0]
	n := &ndoc.NSDs[0]

	if err := ValidateVNFD(v); err != nil {
		t.Errorf("ValidateVNFD: %v", err)
	}
	if err := ValidateNSD(n, catalogOf(vdoc)); err != nil {
		t.Errorf("ValidateNSD: %v", err)
	}
	// Unquoted `version: 1.0` stays as written.
	if v.Version != "1.0" || n.Version != "1.0" {
		t.Errorf("versions = %q, %q; want 1.0", v.Version, n.Version)
	}
	if v.Kind != KindVNF {
		t.Errorf("kind = %q, want vnf", v.Kind)
	}
	if vcpu, mem := v.Compute("hackfest_basic-VM"); vcpu != 1 || mem != 1024 {
		t.Errorf("Compute = %d vCPU, %d MB; want 1, 1024", vcpu, mem)
	}
	df, _ := v.Flavour("")
	if got := df.InitialInstances("hackfest_basic-VM", ""); got != 1 {
		t.Errorf("InitialInstances = %d, want 1", got)
	}
	nsdf, _ := n.Flavour("")
	if vl, ok := nsdf.LinkOf("vnf", "vnf-cp0-ext"); !ok || vl != "mgmtnet" {
		t.Errorf("LinkOf = %q, %v; want mgmtnet via the OSM convention", vl, ok)
	}
	if l, ok := n.VirtualLink("mgmtnet"); !ok || !l.MgmtNetwork {
		t.Errorf("VirtualLink(mgmtnet) = %+v, %v; want a management network", l, ok)
	}
}

func TestOSMHackfestMetrics(t *testing.T) {
	doc, _ := mustParse(t, readTestdata(t, "osm/hackfest_basic_metrics_vnfd.yaml"))
	v := &doc.VNFDs[0]
	if err := ValidateVNFD(v); err != nil {
		t.Errorf("ValidateVNFD: %v", err)
	}
	df, _ := v.Flavour("default-df")
	step, err := df.AspectDelta("vdu_autoscale")
	if err != nil || !reflect.DeepEqual(step, map[string]int{"hackfest_basic_metrics-VM": 1}) {
		t.Errorf("AspectDelta = %v, %v", step, err)
	}
	if lo, hi := df.Bounds("hackfest_basic_metrics-VM"); lo != 1 || hi != 3 {
		t.Errorf("Bounds = %d, %d; want 1, 3", lo, hi)
	}
}

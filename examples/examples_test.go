// The examples must load and validate as the NFVO's catalog would take
// them, and stay consistent with the sample programs they run.
package examples_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/descriptors"
)

func parse(t *testing.T, path string) *descriptors.Document {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, warnings, err := descriptors.Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, w := range warnings {
		t.Errorf("%s: %s", path, w)
	}
	return doc
}

func loadVNFDs(t *testing.T) map[string]*descriptors.VNFD {
	t.Helper()
	files, err := filepath.Glob("vnfd/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no VNFDs: %v", err)
	}
	out := map[string]*descriptors.VNFD{}
	for _, f := range files {
		doc := parse(t, f)
		if len(doc.VNFDs) != 1 || len(doc.NSDs) != 0 {
			t.Fatalf("%s: want exactly one VNFD, got %d VNFDs and %d NSDs", f, len(doc.VNFDs), len(doc.NSDs))
		}
		v := &doc.VNFDs[0]
		if err := descriptors.ValidateVNFD(v); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		out[v.ID] = v
	}
	return out
}

func TestVNFDs(t *testing.T) {
	vnfds := loadVNFDs(t)
	kinds := map[string]descriptors.Kind{
		"stitch-firewall": descriptors.KindVNF,
		"stitch-lb":       descriptors.KindVNF,
		"stitch-web":      descriptors.KindMicroservice,
		"stitch-backend":  descriptors.KindMicroservice,
		"stitch-kvdb":     descriptors.KindMicroservice,
	}
	for id, kind := range kinds {
		v, ok := vnfds[id]
		if !ok {
			t.Errorf("no VNFD %s", id)
			continue
		}
		if v.Kind != kind {
			t.Errorf("%s: kind %s, want %s", id, v.Kind, kind)
		}
		if len(v.VDUs) != 1 {
			t.Errorf("%s: %d VDUs, want 1", id, len(v.VDUs))
			continue
		}
		vdu := v.VDUs[0]
		// The program is the command of the same name, listening on all
		// its addresses: behind a service router, sessions arrive
		// addressed to the SAP's address (direct server return).
		if vdu.Program == nil || vdu.Program.Path != id {
			t.Errorf("%s: program %+v, want path %s", id, vdu.Program, id)
		} else if _, err := os.Stat(filepath.Join("..", "cmd", id)); err != nil {
			t.Errorf("%s: no cmd/%s: %v", id, id, err)
		} else if i := slices.Index(vdu.Program.Args, "--listen"); i < 0 || i+1 >= len(vdu.Program.Args) ||
			vdu.Program.Args[i+1] != ":8080" {
			t.Errorf("%s: args %q must contain --listen :8080", id, vdu.Program.Args)
		}
		if len(vdu.IntCpds) != 1 || vdu.IntCpds[0].ID != "data" {
			t.Errorf("%s: int-cpds %+v, want one: data", id, vdu.IntCpds)
		}
		if len(v.ExtCpds) != 1 || v.ExtCpds[0].ID != "data" || len(v.ExtCpds[0].Ports) != 1 || v.ExtCpds[0].Ports[0].Port != 8080 {
			t.Errorf("%s: ext-cpds %+v, want data on 8080", id, v.ExtCpds)
		}
		hc := vdu.HealthCheck
		if hc == nil || hc.Type != "http" || hc.Cpd != "data" || hc.Port != 8080 || hc.Path != "/healthz" {
			t.Errorf("%s: health-check %+v", id, hc)
		}
		if df, ok := v.Flavour("default"); !ok || len(df.InstantiationLevels) == 0 || len(df.VduProfiles) == 0 {
			t.Errorf("%s: df default needs vdu-profile and instantiation-level", id)
		}
		if len(v.MonitoringParams) == 0 {
			t.Errorf("%s: no monitoring-parameter", id)
		}
	}
	if be := vnfds["stitch-backend"]; be != nil && be.Slots("default", "backend") != 20 {
		t.Errorf("backend slots = %d, want 20", be.Slots("default", "backend"))
	}
}

func TestNSDs(t *testing.T) {
	vnfds := loadVNFDs(t)
	for _, f := range []string{"nsd/complex-service.yaml", "nsd/microservices.yaml"} {
		doc := parse(t, f)
		if len(doc.NSDs) != 1 {
			t.Fatalf("%s: %d NSDs, want 1", f, len(doc.NSDs))
		}
		if err := descriptors.ValidateNSD(&doc.NSDs[0], vnfds); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestComplexServiceWiring(t *testing.T) {
	doc := parse(t, "nsd/complex-service.yaml")
	n := &doc.NSDs[0]
	df, _ := n.Flavour("")
	order, err := df.DeploymentOrder()
	if err != nil {
		t.Fatal(err)
	}
	var layers []string
	for _, l := range order {
		layers = append(layers, strings.Join(l, "+"))
	}
	if got := strings.Join(layers, " → "); got != "kvdb → backend → web → lb → fw" {
		t.Errorf("deployment order %s", got)
	}
	var chain []string
	for _, p := range n.Vnffgds[0].Nfpd[0].Positions {
		chain = append(chain, p.VnfProfileID)
	}
	if !slices.Equal(chain, []string{"fw", "lb", "web"}) {
		t.Errorf("chain %v", chain)
	}
	sites := map[string]string{}
	for _, vp := range df.VnfProfiles {
		sites[vp.ID] = strings.Join(vp.Sites, ",")
	}
	want := map[string]string{"fw": "edge", "lb": "edge", "web": "edge", "backend": "core", "kvdb": "core"}
	for id, s := range want {
		if sites[id] != s {
			t.Errorf("%s on %q, want %q", id, sites[id], s)
		}
	}
}

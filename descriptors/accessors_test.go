package descriptors

import (
	"errors"
	"reflect"
	"testing"
)

func TestVNFDLookups(t *testing.T) {
	doc := webchain(t)
	fw := vnfdByID(t, doc, "fw")
	fw.DFs = append(fw.DFs, VNFDeploymentFlavour{ID: "gold"})

	tests := []struct {
		name   string
		got    func() (string, bool)
		want   string
		wantOK bool
	}{
		{"first flavour", func() (string, bool) { df, ok := fw.Flavour(""); return idOr(df, ok), ok }, "default", true},
		{"named flavour", func() (string, bool) { df, ok := fw.Flavour("gold"); return idOr(df, ok), ok }, "gold", true},
		{"unknown flavour", func() (string, bool) { df, ok := fw.Flavour("silver"); return idOr(df, ok), ok }, "", false},
		{"vdu", func() (string, bool) { v, ok := fw.VDU("fw"); return idOr(v, ok), ok }, "fw", true},
		{"unknown vdu", func() (string, bool) { v, ok := fw.VDU("lb"); return idOr(v, ok), ok }, "", false},
		{"empty vdu id", func() (string, bool) { v, ok := fw.VDU(""); return idOr(v, ok), ok }, "", false},
		{"ext-cpd", func() (string, bool) { e, ok := fw.ExtCpd("out-ext"); return idOr(e, ok), ok }, "out-ext", true},
		{"unknown ext-cpd", func() (string, bool) { e, ok := fw.ExtCpd("in"); return idOr(e, ok), ok }, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.got()
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("got %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}

	// Lookups return pointers into the descriptor, not copies.
	vdu, _ := fw.VDU("fw")
	vdu.Slots = 7
	if fw.VDUs[0].Slots != 7 {
		t.Error("VDU returned a copy")
	}
	if _, ok := (&VNFD{}).Flavour(""); ok {
		t.Error("Flavour(\"\") found a flavour in a VNFD without any")
	}
}

// idOr gives the id of whatever a lookup returned, "" when it failed.
func idOr[T any](v *T, ok bool) string {
	if !ok || v == nil {
		return ""
	}
	return reflect.ValueOf(v).Elem().FieldByName("ID").String()
}

func TestCompute(t *testing.T) {
	doc := webchain(t)
	fw := vnfdByID(t, doc, "fw")
	fw.VirtualComputeDescs = append(fw.VirtualComputeDescs,
		VirtualComputeDesc{ID: "tiny", VirtualCPU: VirtualCPU{NumVirtualCPU: 1}, VirtualMemory: VirtualMemory{Size: 0.0001}},
		VirtualComputeDesc{ID: "nomem", VirtualCPU: VirtualCPU{NumVirtualCPU: 4}},
	)
	fw.VDUs = append(fw.VDUs,
		VDU{ID: "plain"},
		VDU{ID: "tiny", VirtualComputeDesc: "tiny"},
		VDU{ID: "nomem", VirtualComputeDesc: "nomem"},
		VDU{ID: "dangling", VirtualComputeDesc: "gone"},
	)
	tests := []struct {
		vdu       string
		vcpu, mem int
	}{
		{"fw", 2, 512},       // 0.5 GB
		{"plain", 1, 256},    // no virtual-compute-desc
		{"tiny", 1, 1},       // rounded up, never 0
		{"nomem", 4, 256},    // memory not given
		{"dangling", 1, 256}, // unresolved reference
		{"unknown", 1, 256},
	}
	for _, tt := range tests {
		if vcpu, mem := fw.Compute(tt.vdu); vcpu != tt.vcpu || mem != tt.mem {
			t.Errorf("Compute(%s) = %d, %d; want %d, %d", tt.vdu, vcpu, mem, tt.vcpu, tt.mem)
		}
	}
}

func TestSlots(t *testing.T) {
	doc := webchain(t)
	fw := vnfdByID(t, doc, "fw")
	fw.DFs = append(fw.DFs, VNFDeploymentFlavour{ID: "plain", VduProfiles: []VduProfile{{ID: "fw", MinNumberOfInstances: 1}}})
	tests := []struct {
		df, vdu string
		want    int
	}{
		{"default", "fw", 200}, // vdu-profile override
		{"", "fw", 200},        // first flavour
		{"plain", "fw", 100},   // profile without slots: the VDU's
		{"missing", "fw", 100}, // unknown flavour: the VDU's
		{"default", "lb", 0},
	}
	for _, tt := range tests {
		if got := fw.Slots(tt.df, tt.vdu); got != tt.want {
			t.Errorf("Slots(%q, %q) = %d, want %d", tt.df, tt.vdu, got, tt.want)
		}
	}
}

func TestBoundsAndInitialInstances(t *testing.T) {
	df := &VNFDeploymentFlavour{
		ID: "d",
		VduProfiles: []VduProfile{
			{ID: "a", MinNumberOfInstances: 2, MaxNumberOfInstances: 5},
			{ID: "b", MinNumberOfInstances: 0},
		},
		InstantiationLevels: []InstantiationLevel{
			{ID: "small", VduLevels: []VduLevel{{VduID: "a", NumberOfInstances: 3}}},
			{ID: "large", VduLevels: []VduLevel{{VduID: "a", NumberOfInstances: 5}, {VduID: "b", NumberOfInstances: 4}}},
		},
	}
	bounds := []struct {
		vdu      string
		min, max int
	}{
		{"a", 2, 5},
		{"b", 0, 0},
		{"c", 1, 0}, // no profile: one instance, no maximum
	}
	for _, tt := range bounds {
		if lo, hi := df.Bounds(tt.vdu); lo != tt.min || hi != tt.max {
			t.Errorf("Bounds(%s) = %d, %d; want %d, %d", tt.vdu, lo, hi, tt.min, tt.max)
		}
	}
	initial := []struct {
		vdu, level string
		want       int
	}{
		{"a", "", 3},      // first level
		{"a", "large", 5}, // named level
		{"b", "small", 0}, // level does not name it: min
		{"b", "large", 4},
		{"a", "missing", 2}, // unknown level: min
		{"c", "", 1},        // nothing known: one
	}
	for _, tt := range initial {
		if got := df.InitialInstances(tt.vdu, tt.level); got != tt.want {
			t.Errorf("InitialInstances(%q, %q) = %d, want %d", tt.vdu, tt.level, got, tt.want)
		}
	}
	if got := (&VNFDeploymentFlavour{}).InitialInstances("a", ""); got != 1 {
		t.Errorf("InitialInstances without levels or profiles = %d, want 1", got)
	}
}

func TestAspectDelta(t *testing.T) {
	df := &VNFDeploymentFlavour{ID: "d", ScalingAspects: []ScalingAspect{
		{ID: "both", AspectDeltaDetails: &AspectDeltaDetails{Deltas: []ScalingDelta{
			{ID: "first", VduDeltas: []VduDelta{{ID: "a", NumberOfInstances: 1}, {ID: "b", NumberOfInstances: 2}, {ID: "a", NumberOfInstances: 1}}},
			{ID: "second", VduDeltas: []VduDelta{{ID: "a", NumberOfInstances: 10}}},
		}}},
		{ID: "empty"},
	}}
	step, err := df.AspectDelta("both")
	if err != nil || !reflect.DeepEqual(step, map[string]int{"a": 2, "b": 2}) {
		t.Errorf("AspectDelta(both) = %v, %v; want the first delta, a:2 b:2", step, err)
	}
	if _, err := df.AspectDelta("missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("AspectDelta(missing) error = %v, want ErrNotFound", err)
	}
	if _, err := df.AspectDelta(""); !errors.Is(err, ErrNotFound) {
		t.Errorf("AspectDelta(\"\") error = %v, want ErrNotFound", err)
	}
	if _, err := df.AspectDelta("empty"); !errors.Is(err, ErrInvalid) {
		t.Errorf("AspectDelta(empty) error = %v, want ErrInvalid", err)
	}
}

func TestNSDLookups(t *testing.T) {
	n := &webchain(t).NSDs[0]
	df, ok := n.Flavour("")
	if !ok || df.ID != "default" {
		t.Fatalf("Flavour(\"\") = %v, %v", df, ok)
	}
	if _, ok := n.Flavour("gold"); ok {
		t.Error("Flavour(gold) found something")
	}
	if p, ok := df.Profile("frontend"); !ok || p.VnfdID != "web" {
		t.Errorf("Profile(frontend) = %+v, %v", p, ok)
	}
	if _, ok := df.Profile(""); ok {
		t.Error("Profile(\"\") found something")
	}
	if l, ok := n.VirtualLink("backend"); !ok || l.CIDR != "10.20.0.0/16" {
		t.Errorf("VirtualLink(backend) = %+v, %v", l, ok)
	}
	if _, ok := n.VirtualLink("dmz"); ok {
		t.Error("VirtualLink(dmz) found something")
	}
}

func TestLinkOf(t *testing.T) {
	df, _ := webchain(t).NSDs[0].Flavour("")
	// OSM style: the connectivity names the virtual-link-desc itself.
	df.VnfProfiles[2].VirtualLinkConnectivity[0].VirtualLinkProfileID = "backend"
	tests := []struct {
		profile, cpd string
		want         string
		wantOK       bool
	}{
		{"firewall", "in-ext", "access", true},
		{"firewall", "out-ext", "backend", true},
		{"frontend", "http-ext", "backend", true},
		{"database", "sql-ext", "backend", true},
		{"firewall", "http-ext", "", false},
		{"lb", "in-ext", "", false},
	}
	for _, tt := range tests {
		if got, ok := df.LinkOf(tt.profile, tt.cpd); got != tt.want || ok != tt.wantOK {
			t.Errorf("LinkOf(%s, %s) = %q, %v; want %q, %v", tt.profile, tt.cpd, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestDeploymentOrder(t *testing.T) {
	profiles := func(deps map[string][]string) *NSDeploymentFlavour {
		df := &NSDeploymentFlavour{}
		for _, id := range sortedKeys(deps) {
			df.VnfProfiles = append(df.VnfProfiles, VnfProfile{ID: id, DependsOn: deps[id]})
		}
		return df
	}
	tests := []struct {
		name    string
		deps    map[string][]string
		want    [][]string
		wantErr string
	}{
		{"no profiles", map[string][]string{}, [][]string{}, ""},
		{"independent", map[string][]string{"b": nil, "a": nil}, [][]string{{"a", "b"}}, ""},
		{"chain", map[string][]string{"fw": {"web"}, "web": {"db"}, "db": nil}, [][]string{{"db"}, {"web"}, {"fw"}}, ""},
		{"diamond", map[string][]string{"top": {"l", "r"}, "l": {"base"}, "r": {"base"}, "base": nil, "solo": nil},
			[][]string{{"base", "solo"}, {"l", "r"}, {"top"}}, ""},
		{"waits for the slowest dependency", map[string][]string{"x": {"a", "c"}, "c": {"b"}, "b": {"a"}, "a": nil},
			[][]string{{"a"}, {"b"}, {"c"}, {"x"}}, ""},
		{"repeated dependency", map[string][]string{"x": {"a", "a"}, "a": nil}, [][]string{{"a"}, {"x"}}, ""},
		{"cycle", map[string][]string{"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": nil}, nil, "dependency cycle: a -> b -> c -> a"},
		{"self", map[string][]string{"a": {"a"}}, nil, "dependency cycle: a -> a"},
		{"two cycles", map[string][]string{"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}}, nil, "dependency cycle: a -> b -> a; c -> d -> c"},
		{"behind a cycle", map[string][]string{"x": {"a"}, "a": {"b"}, "b": {"a"}}, nil, "dependency cycle: a -> b -> a"},
		{"unknown dependency", map[string][]string{"a": {"ghost"}}, nil, `vnf-profile "a" depends on vnf-profile "ghost": not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := profiles(tt.deps).DeploymentOrder()
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DeploymentOrder = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	_, err := profiles(map[string][]string{"a": {"a"}}).DeploymentOrder()
	if !errors.Is(err, ErrDependencyCycle) {
		t.Errorf("cycle error %v does not wrap ErrDependencyCycle", err)
	}

	webdf, _ := webchain(t).NSDs[0].Flavour("")
	if got, _ := webdf.DeploymentOrder(); !reflect.DeepEqual(got, [][]string{{"database"}, {"frontend"}, {"firewall"}}) {
		t.Errorf("webchain order = %v", got)
	}
}

func TestDependants(t *testing.T) {
	df := &NSDeploymentFlavour{VnfProfiles: []VnfProfile{
		{ID: "fw", DependsOn: []string{"web"}},
		{ID: "cache", DependsOn: []string{"db", "db"}},
		{ID: "web", DependsOn: []string{"db"}},
		{ID: "db"},
	}}
	tests := []struct {
		id   string
		want []string
	}{
		{"db", []string{"cache", "web"}},
		{"web", []string{"fw"}}, // direct dependants only
		{"fw", nil},
	}
	for _, tt := range tests {
		if got := df.Dependants(tt.id); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Dependants(%s) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

package descriptors

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const minimalVNFD = `
vnfd:
  id: a
  vdu:
  - id: a
    program: {path: /bin/a}
  df:
  - id: default
`

func TestParseShapes(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantVNFDs []string
		wantNSDs  []string
	}{
		{"vnfd object (OSM)", minimalVNFD, []string{"a"}, nil},
		{"vnfd list", "vnfd:\n- id: a\n- id: b\n", []string{"a", "b"}, nil},
		{"vnfd wrapped", "vnfd:\n  vnfd:\n  - id: a\n", []string{"a"}, nil},
		{"nsd wrapped list (SOL006)", "nsd:\n  nsd:\n  - id: n1\n  - id: n2\n", nil, []string{"n1", "n2"}},
		{"nsd wrapped object", "nsd:\n  nsd:\n    id: n1\n", nil, []string{"n1"}},
		{"nsd list", "nsd:\n- id: n1\n", nil, []string{"n1"}},
		{"nsd object", "nsd:\n  id: n1\n", nil, []string{"n1"}},
		{"yang prefixed", "etsi-nfv-vnfd:vnfd:\n  id: a\netsi-nfv-nsd:nsd:\n  nsd:\n  - id: n1\n", []string{"a"}, []string{"n1"}},
		{"both kinds", "vnfd: {id: a}\nnsd: {nsd: [{id: n1}]}\n", []string{"a"}, []string{"n1"}},
		{"json", `{"vnfd": {"id": "a"}, "nsd": {"nsd": [{"id": "n1"}]}}`, []string{"a"}, []string{"n1"}},
		{"yaml stream", "vnfd: {id: a}\n---\nvnfd: {id: b}\n---\nnsd: {id: n1}\n---\n", []string{"a", "b"}, []string{"n1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := mustParse(t, []byte(tt.in))
			var vnfds, nsds []string
			for _, v := range doc.VNFDs {
				vnfds = append(vnfds, v.ID)
			}
			for _, n := range doc.NSDs {
				nsds = append(nsds, n.ID)
			}
			if !slices.Equal(vnfds, tt.wantVNFDs) || !slices.Equal(nsds, tt.wantNSDs) {
				t.Errorf("got VNFDs %v NSDs %v, want %v %v", vnfds, nsds, tt.wantVNFDs, tt.wantNSDs)
			}
		})
	}
}

func TestParseWarnsAboutUnusedFields(t *testing.T) {
	in := `
vnfd:
  id: a
  vendor-extension: {deep: {deeper: 1}}
  vdu:
  - id: a
    cloud-init-file: cloud-config.txt
    program:
      path: /bin/a
      env: {ANY_NAME: x, other: y}
    int-cpd:
    - id: eth0
      virtual-network-interface-requirement: [{name: eth0}]
    Slots: 3
  df:
  - id: default
    vdu-profile:
    - id: a
      max_number_of_instances: 2
nsd:
  nsd:
  - id: n
    df: [{id: d, vnf-profile: [{id: p, vnfd-id: a, unknown-knob: true}]}]
  catalog-note: extra
info: not a descriptor
`
	_, warnings := mustParse(t, []byte(in))
	want := []Warning{
		{"info", unusedField},
		{"nsd.catalog-note", unusedField},
		{"nsd.nsd[0].df[0].vnf-profile[0].unknown-knob", unusedField},
		{"vnfd.df[0].vdu-profile[0].max_number_of_instances", unusedField + ` (did you mean "max-number-of-instances"?)`},
		{"vnfd.vdu[0].Slots", unusedField + ` (did you mean "slots"?)`},
		{"vnfd.vdu[0].cloud-init-file", unusedField},
		{"vnfd.vdu[0].int-cpd[0].virtual-network-interface-requirement", unusedField},
		{"vnfd.vendor-extension", unusedField},
	}
	if !reflect.DeepEqual(warnings, want) {
		t.Errorf("warnings:\n got %v\nwant %v", warnings, want)
	}
	if got := want[5].String(); got != "vnfd.vdu[0].cloud-init-file: field not used by stitch, ignored" {
		t.Errorf("Warning.String() = %q", got)
	}
}

func TestParseWarningsComeWithErrors(t *testing.T) {
	_, warnings, err := Parse([]byte("vnfd: {id: a, slots-typo: 1, vdu: 3}\n"))
	wantProblem(t, err, "vnfd.vdu", "expected a list, got number 3")
	if len(warnings) != 1 || warnings[0].Path != "vnfd.slots-typo" {
		t.Errorf("warnings = %v, want the one for vnfd.slots-typo", warnings)
	}
}

func TestParseTypeErrorsNameTheField(t *testing.T) {
	tests := []struct {
		name, in, path, reason string
	}{
		{"string for int", "vnfd: {id: a, vdu: [{id: a, slots: four}]}", "vnfd.vdu[0].slots", `expected an integer, got string "four"`},
		{"fraction for int", "vnfd: {id: a, vdu: [{id: a, slots: 1.5}]}", "vnfd.vdu[0].slots", "expected an integer, got number 1.5"},
		{"int overflow", "vnfd: {id: a, vdu: [{id: a, slots: 1e40}]}", "vnfd.vdu[0].slots", "expected an integer"},
		{"string for float", "vnfd: {id: a, virtual-compute-desc: [{id: c, virtual-memory: {size: big}}]}", "vnfd.virtual-compute-desc[0].virtual-memory.size", `expected a number, got string "big"`},
		{"infinite float", "vnfd: {id: a, virtual-compute-desc: [{id: c, virtual-memory: {size: .inf}}]}", "vnfd.virtual-compute-desc[0].virtual-memory.size", "expected a finite number"},
		{"bad duration", "vnfd: {id: a, vdu: [{id: a, health-check: {type: tcp, interval: 5x}}]}", "vnfd.vdu[0].health-check.interval", `invalid duration "5x"`},
		{"bool duration", "vnfd: {id: a, vdu: [{id: a, health-check: {type: tcp, timeout: true}}]}", "vnfd.vdu[0].health-check.timeout", "duration must be"},
		{"object for string", "vnfd: {id: {x: 1}}", "vnfd.id", "expected a string, got an object"},
		{"scalar for list", "vnfd: {id: a, vdu: x}", "vnfd.vdu", `expected a list, got string "x"`},
		{"list for object", "vnfd: {id: a, vdu: [{id: a, program: [x]}]}", "vnfd.vdu[0].program", "expected an object, got a list"},
		{"string for bool", "nsd: {id: n, virtual-link-desc: [{id: l, mgmt-network: \"yes\"}]}", "nsd.virtual-link-desc[0].mgmt-network", `expected true or false, got string "yes"`},
		{"list for env value", "vnfd: {id: a, vdu: [{id: a, program: {path: /a, env: {X: [1]}}}]}", "vnfd.vdu[0].program.env.X", "expected a string, got a list"},
		{"scalar descriptor", "vnfd: 3", "vnfd", "expected a descriptor or a list of descriptors"},
		{"top-level list", "- vnfd: {id: a}", "document", "expected a mapping with vnfd and/or nsd"},
		{"json path", `{"nsd": {"nsd": [{"id": "n", "sapd": [{"id": "s", "port": "80"}]}]}}`, "nsd.nsd[0].sapd[0].port", `expected an integer, got string "80"`},
		{"pre-SOL006 OSM", "vnfd:vnfd-catalog: {vnfd: [{id: a}]}", "vnfd:vnfd-catalog", "pre-SOL006"},
		{"stream position", "vnfd: {id: a}\n---\nvnfd: {id: b, vdu: 1}\n", "doc[1].vnfd.vdu", "expected a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _, err := Parse([]byte(tt.in))
			if doc != nil {
				t.Errorf("got a document along with the error")
			}
			wantProblem(t, err, tt.path, tt.reason)
		})
	}
}

func TestParseReportsAllTypeErrors(t *testing.T) {
	_, _, err := Parse([]byte("vnfd: {id: a, vdu: [{id: a, slots: x}, {id: b, slots: y}], df: 1}"))
	problems := problemsOf(t, err)
	if len(problems) != 3 {
		t.Errorf("want 3 problems, got %v", problems)
	}
	if want := "vnfd.df: expected a list, got number 1\nvnfd.vdu[0].slots"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Error() = %q, want it to start with %q", err, want)
	}
}

func TestParseRejectsMalformedInput(t *testing.T) {
	tests := []struct {
		name, in, reason string
	}{
		{"broken yaml", "vnfd:\n  id: a\n bad: [", "yaml:"},
		{"tab indentation", "vnfd:\n\tid: a\n", "yaml:"},
		{"duplicate yaml key", "vnfd:\n  id: a\n  id: b\n", "already set"},
		{"duplicate json key", "{\"vnfd\": {\"id\": \"a\",\n \"id\": \"b\"}}", `json: line 2 column 6: duplicate key "id"`},
		{"same key spelled twice", "vnfd:\n  1: a\n  \"1\": b\n", `yaml: line 3: key "1" already set`},
		{"empty", "", "no vnfd or nsd"},
		{"comments only", "# nothing here\n---\n", "no vnfd or nsd"},
		{"neither kind", "foo: bar\n", "no vnfd or nsd"},
		{"empty list", "vnfd: []\n", "no vnfd or nsd"},
		{"too deep", "vnfd: " + strings.Repeat("[", 100) + strings.Repeat("]", 100), "nesting deeper than"},
		{"too deep json", `{"vnfd": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "}", "nesting deeper than"},
		{"too large", "vnfd: {id: a}\n#" + strings.Repeat("x", MaxDocumentSize), "limit"},
		{"complex key", "vnfd:\n  ? [a, b]\n  : c\n", "yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _, err := Parse([]byte(tt.in))
			if err == nil || doc != nil {
				t.Fatalf("Parse = %v, %v; want an error", doc, err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not mention %q", err, tt.reason)
			}
		})
	}
}

func TestParseKeepsNumbersWrittenForStrings(t *testing.T) {
	tests := []struct {
		name, in string
		get      func(*Document) string
		want     string
	}{
		{"yaml float version", "vnfd: {id: a, version: 1.0}", func(d *Document) string { return d.VNFDs[0].Version }, "1.0"},
		{"yaml int version", "vnfd: {id: a, version: 2}", func(d *Document) string { return d.VNFDs[0].Version }, "2"},
		{"yaml float with digits", "vnfd: {id: a, version: 2.5}", func(d *Document) string { return d.VNFDs[0].Version }, "2.5"},
		{"trailing zero kept", "vnfd: {id: a, version: 1.10}", func(d *Document) string { return d.VNFDs[0].Version }, "1.10"},
		{"leading zero kept", "vnfd: {id: 010}", func(d *Document) string { return d.VNFDs[0].ID }, "010"},
		{"yaml 1.1 bool word kept", "vnfd: {id: a, description: yes}", func(d *Document) string { return d.VNFDs[0].Description }, "yes"},
		{"env key N is not false", "vnfd: {id: a, vdu: [{id: a, program: {path: /a, env: {N: 1, Y: on}}}]}", func(d *Document) string { return fmt.Sprint(d.VNFDs[0].VDUs[0].Program.Env) }, "map[N:1 Y:on]"},
		{"hex for int", "vnfd: {id: a, vdu: [{id: a, slots: 0x10}]}", func(d *Document) string { return strconv.Itoa(d.VNFDs[0].VDUs[0].Slots) }, "16"},
		{"yaml 1.1 bool for bool", "nsd: {id: n, virtual-link-desc: [{id: l, mgmt-network: yes}]}", func(d *Document) string { return strconv.FormatBool(d.NSDs[0].VirtualLinkDescs[0].MgmtNetwork) }, "true"},
		{"json float version", `{"vnfd": {"id": "a", "version": 1.0}}`, func(d *Document) string { return d.VNFDs[0].Version }, "1.0"},
		{"numeric id", "vnfd: {id: 1}", func(d *Document) string { return d.VNFDs[0].ID }, "1"},
		{"quoted profile id", "nsd: {id: n, df: [{id: d, vnf-profile: [{id: '1'}]}]}", func(d *Document) string { return d.NSDs[0].DFs[0].VnfProfiles[0].ID }, "1"},
		{"numeric name", "nsd: {id: n, name: 42}", func(d *Document) string { return d.NSDs[0].Name }, "42"},
		{"env number", "vnfd: {id: a, vdu: [{id: a, program: {path: /a, env: {N: 4}}}]}", func(d *Document) string { return d.VNFDs[0].VDUs[0].Program.Env["N"] }, "4"},
		{"env bool", "vnfd: {id: a, vdu: [{id: a, program: {path: /a, env: {B: true}}}]}", func(d *Document) string { return d.VNFDs[0].VDUs[0].Program.Env["B"] }, "true"},
		{"integral float for int", "vnfd: {id: a, vdu: [{id: a, slots: 2.0}]}", func(d *Document) string { return strconv.Itoa(d.VNFDs[0].VDUs[0].Slots) }, "2"},
		{"duration in seconds", "vnfd: {id: a, vdu: [{id: a, health-check: {type: tcp, interval: 1.5}}]}", func(d *Document) string { return d.VNFDs[0].VDUs[0].HealthCheck.Interval.Std().String() }, "1.5s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, _ := mustParse(t, []byte(tt.in))
			if got := tt.get(doc); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseAppliesDefaults(t *testing.T) {
	doc := webchain(t)
	fw := vnfdByID(t, doc, "fw")
	web := vnfdByID(t, doc, "web")
	db := vnfdByID(t, doc, "db")
	n := &doc.NSDs[0]

	if fw.Kind != KindVNF || web.Kind != KindMicroservice {
		t.Errorf("kinds = %q, %q; want explicit kinds kept", fw.Kind, web.Kind)
	}
	if fw.Version != "1.2" || web.Version != "1.0" || n.Version != "1.0" {
		t.Errorf("versions = %q, %q, %q; want 1.2 kept and 1.0 defaulted", fw.Version, web.Version, n.Version)
	}
	if hc := fw.VDUs[0].HealthCheck; hc.Interval.Std() != 2*time.Second || hc.Timeout.Std() != time.Second || hc.FailureThreshold != 3 {
		t.Errorf("fw health-check = %+v; want interval 2s kept, timeout 1s and threshold 3 defaulted", *hc)
	}
	if hc := db.VDUs[0].HealthCheck; hc.Interval.Std() != time.Second {
		t.Errorf("db health-check interval = %v, want 1s", hc.Interval.Std())
	}
	if got := fw.ExtCpds[0].Ports[0].Protocol; got != "tcp" {
		t.Errorf("port protocol = %q, want tcp", got)
	}
	if got := n.DFs[0].VnfProfiles[1].FlavourID; got != "" {
		t.Errorf("vnf-profile flavour-id = %q, want it left empty", got)
	}

	v, _ := mustParse(t, []byte("vnfd: {id: a}\nnsd: {id: n, sapd: [{id: s, port: 53}, {id: t}]}"))
	if v.VNFDs[0].Kind != KindVNF {
		t.Errorf("kind = %q, want vnf", v.VNFDs[0].Kind)
	}
	if s := v.NSDs[0].Sapds; s[0].Protocol != "tcp" || s[1].Protocol != "" {
		t.Errorf("sapd protocols = %q, %q; want tcp for the one with a port only", s[0].Protocol, s[1].Protocol)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	docs := map[string]*Document{"webchain": webchain(t)}
	for _, name := range []string{"hackfest_basic_vnfd.yaml", "hackfest_basic_nsd.yaml", "hackfest_basic_metrics_vnfd.yaml"} {
		docs[name], _ = mustParse(t, readTestdata(t, "osm/"+name))
	}
	for name, doc := range docs {
		for _, format := range []string{"yaml", "json"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				out, err := Marshal(doc, format)
				if err != nil {
					t.Fatal(err)
				}
				back, warnings := mustParse(t, out)
				if len(warnings) > 0 {
					t.Errorf("re-parse warnings: %v", warnings)
				}
				if !reflect.DeepEqual(back, doc) {
					t.Errorf("round trip changed the document; output:\n%s", out)
				}
			})
		}
	}
}

func TestMarshalShape(t *testing.T) {
	doc := webchain(t)
	one := &Document{VNFDs: doc.VNFDs[:1], NSDs: doc.NSDs}
	tests := []struct {
		name   string
		doc    *Document
		vnfdIs string // "object" or "list"
	}{
		{"one VNFD", one, "object"},
		{"several VNFDs", doc, "list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Marshal(tt.doc, "json")
			if err != nil {
				t.Fatal(err)
			}
			var wire struct {
				VNFD json.RawMessage `json:"vnfd"`
				NSD  struct {
					NSD []json.RawMessage `json:"nsd"`
				} `json:"nsd"`
			}
			if err := json.Unmarshal(out, &wire); err != nil {
				t.Fatal(err)
			}
			if got := map[byte]string{'{': "object", '[': "list"}[wire.VNFD[0]]; got != tt.vnfdIs {
				t.Errorf("vnfd is a %s, want a %s", got, tt.vnfdIs)
			}
			if len(wire.NSD.NSD) != 1 {
				t.Errorf("nsd.nsd has %d entries, want 1", len(wire.NSD.NSD))
			}
		})
	}

	y, err := Marshal(one, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Keys follow the model's field order, so a written VNFD starts with id.
	if want := "vnfd:\n  id: fw\n  version: \"1.2\"\n"; !strings.HasPrefix(string(y), want) {
		t.Errorf("YAML starts with %q, want %q", string(y)[:min(len(y), 60)], want)
	}
}

func TestMarshalErrors(t *testing.T) {
	if _, err := Marshal(webchain(t), "xml"); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("Marshal(xml) = %v, want unknown format", err)
	}
	for _, doc := range []*Document{nil, {}} {
		if _, err := Marshal(doc, "yaml"); !errors.Is(err, ErrInvalid) {
			t.Errorf("Marshal(%v) = %v, want ErrInvalid", doc, err)
		}
	}
}

// YAML has several spellings of null; yaml.v2 only short-cuts some of them,
// the others reach the literal-keeping node and must still mean null.
func TestParseNullSpellings(t *testing.T) {
	doc, _ := mustParse(t, []byte("vnfd: {id: a, description: NULL, vdu: Null, df: ~, mgmt-cp: null, product-name: }\n"))
	v := doc.VNFDs[0]
	if v.Description != "" || v.VDUs != nil || v.DFs != nil || v.MgmtCp != "" || v.ProductName != "" {
		t.Errorf("nulls decoded as values: %+v", v)
	}
	doc, _ = mustParse(t, []byte("vnfd: {id: a, description: 'NULL'}\n"))
	if got := doc.VNFDs[0].Description; got != "NULL" {
		t.Errorf("quoted NULL = %q, want the string", got)
	}
}

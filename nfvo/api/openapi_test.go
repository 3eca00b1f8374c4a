package api

import (
	"encoding/json"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/stitchnfv/stitch/descriptors"
	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/nfvo/api/apitest"
	"github.com/stitchnfv/stitch/servicerouter/control"
	"github.com/stitchnfv/stitch/vnfm"
)

// openAPIDoc is the part of the OpenAPI document the tests check.
type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		} `json:"schemas"`
	} `json:"components"`
}

func loadOpenAPI(t *testing.T) (openAPIDoc, []byte) {
	t.Helper()
	js, err := openAPIToJSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatalf("decode openapi.yaml: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Fatalf("openapi = %q", doc.OpenAPI)
	}
	return doc, js
}

// TestOpenAPICoversRoutes: every route the mux serves is documented, and
// every documented operation is served.
func TestOpenAPICoversRoutes(t *testing.T) {
	t.Parallel()
	doc, _ := loadOpenAPI(t)
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	served := map[string]bool{}
	for _, rt := range (&server{svc: apitest.New()}).routes() {
		key := rt.method + " " + rt.path
		if served[key] {
			t.Errorf("route %s is registered twice", key)
		}
		served[key] = true
	}
	for _, k := range slices.Sorted(maps.Keys(served)) {
		if !documented[k] {
			t.Errorf("route %s is served but not in openapi.yaml", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(documented)) {
		if !served[k] {
			t.Errorf("openapi.yaml documents %s, which is not served", k)
		}
	}
}

// TestOpenAPISchemasMatchTypes: each schema lists exactly the JSON fields
// of the Go type it describes, so a field added to nfvo's types without
// documenting it (or a typo in the document) fails here.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	t.Parallel()
	doc, _ := loadOpenAPI(t)
	types := map[string]any{
		"VnfPkgInfo":                           nfvo.VnfdInfo{},
		"NsdInfo":                              nfvo.NsdInfo{},
		"NsInstance":                           nfvo.NsInstance{},
		"Desired":                              nfvo.Desired{},
		"Vnfc":                                 nfvo.Vnfc{},
		"NsLcmOpOcc":                           nfvo.LcmOpOcc{},
		"OpStats":                              nfvo.OpStats{},
		"SlotReport":                           nfvo.SlotReport{},
		"Step":                                 nfvo.Step{},
		"ProblemDetails":                       nfvo.Problem{},
		"FieldProblem":                         nfvo.FieldProblem{},
		"CreateNsRequest":                      nfvo.CreateNsRequest{},
		"InstantiateNsRequest":                 nfvo.InstantiateRequest{},
		"ScaleNsRequest":                       nfvo.ScaleRequest{},
		"ScaleVnfData":                         nfvo.ScaleVnfData{},
		"HealNsRequest":                        nfvo.HealRequest{},
		"TerminateNsRequest":                   nfvo.TerminateRequest{},
		"LccnSubscription":                     nfvo.Subscription{},
		"LccnSubscriptionRequest":              SubscriptionRequest{},
		"NsLcmOperationOccurrenceNotification": nfvo.Notification{},
		"Health":                               Health{},
		"DomainPeer":                           nfvo.DomainPeer{},
		"DomainRoute":                          nfvo.DomainRoute{},
		"RouterView":                           nfvo.RouterView{},
		"PolicyStatus":                         nfvo.PolicyStatus{},
		"TelemetryReport":                      vnfm.TelemetryReport{},
		"TelemetryMetric":                      vnfm.TelemetryMetric{},
		"TelemetryValue":                       vnfm.TelemetryValue{},
		"PolicyUpdate":                         nfvo.PolicyUpdate{},
		"Band":                                 descriptors.Band{},
		"RouterServiceView":                    control.ServiceView{},
		"RouterInstanceView":                   control.InstanceView{},
		"RouterEstimate":                       control.Estimate{},
		"RouterCounters":                       control.Counters{},
	}
	for name, v := range types {
		schema, ok := doc.Components.Schemas[name]
		if !ok {
			t.Errorf("schema %s is missing", name)
			continue
		}
		want := jsonFields(reflect.TypeOf(v))
		got := slices.Sorted(maps.Keys(schema.Properties))
		if !slices.Equal(got, want) {
			t.Errorf("schema %s has properties %v, %T has JSON fields %v", name, got, v, want)
		}
		for _, r := range schema.Required {
			if _, ok := schema.Properties[r]; !ok {
				t.Errorf("schema %s requires %q, which it does not define", name, r)
			}
		}
	}
}

func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
			continue
		case name == "" && f.Anonymous && f.Type.Kind() == reflect.Struct:
			// encoding/json promotes an embedded struct's fields.
			out = append(out, jsonFields(f.Type)...)
			continue
		case name == "":
			name = f.Name
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIRefsResolve: every $ref points at a defined component.
func TestOpenAPIRefsResolve(t *testing.T) {
	t.Parallel()
	_, js := loadOpenAPI(t)
	var whole map[string]any
	if err := json.Unmarshal(js, &whole); err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`"\$ref":"#/([^"]+)"`).FindAllStringSubmatch(string(js), -1)
	if len(refs) == 0 {
		t.Fatal("no $ref found; did the document change shape?")
	}
	for _, m := range refs {
		var node any = whole
		for part := range strings.SplitSeq(m[1], "/") {
			obj, ok := node.(map[string]any)
			if !ok {
				node = nil
				break
			}
			node = obj[part]
		}
		if node == nil {
			t.Errorf("$ref #/%s does not resolve", m[1])
		}
	}
}

// TestOpenAPIServedAsJSON: /openapi.json is the same document as the YAML.
func TestOpenAPIServedAsJSON(t *testing.T) {
	t.Parallel()
	var fromYAML, served any
	if err := yaml.Unmarshal(OpenAPI(), &fromYAML); err != nil {
		t.Fatal(err)
	}
	s := &server{}
	s.openAPIJSON, s.openAPIJSONErr = openAPIToJSON()
	if err := json.Unmarshal(s.openAPIJSON, &served); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromYAML, served) {
		t.Error("openapi.json differs from openapi.yaml")
	}
}

package descriptors

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The model has no embedded structs today; the decoder still has to treat
// them as encoding/json does, so that a model change cannot make fields
// silently unknown.
type embeddedValue struct {
	A string `json:"a"`
	B int    `json:"b"`
}

type EmbeddedPointer struct {
	C int `json:"c"`
}

type decodeTarget struct {
	embeddedValue
	*EmbeddedPointer
	B     string         `json:"b"` // shadows embeddedValue.B
	P     *string        `json:"p,omitempty"`
	Skip  string         `json:"-"`
	Free  any            `json:"free"`
	Plain string         // no tag: the Go name
	Env   map[string]int `json:"env"`
}

func TestDecoderFollowsJSONFieldRules(t *testing.T) {
	d := newDecoder()
	tree := map[string]any{
		"a":     "x",
		"b":     "outer",
		"c":     literal{text: "07", value: json.Number("7")},
		"p":     literal{text: "1.10", value: json.Number("1.1")},
		"-":     "not a field",
		"Skip":  "not a field either",
		"free":  []any{"anything", map[string]any{"goes": true}},
		"Plain": "y",
		"env":   map[string]any{"n": json.Number("3")},
	}
	var got decodeTarget
	d.decode("t", tree, reflect.ValueOf(&got).Elem())
	if len(d.problems) > 0 {
		t.Fatalf("problems: %v", d.problems)
	}
	if got.A != "x" || got.B != "outer" || got.embeddedValue.B != 0 {
		t.Errorf("embedded value fields: A=%q B=%q inner B=%d", got.A, got.B, got.embeddedValue.B)
	}
	if got.EmbeddedPointer == nil || got.C != 7 {
		t.Errorf("embedded pointer not allocated and filled: %+v", got.EmbeddedPointer)
	}
	if got.P == nil || *got.P != "1.10" {
		t.Errorf("*string did not keep the literal: %v", got.P)
	}
	if got.Skip != "" || got.Plain != "y" || got.Env["n"] != 3 {
		t.Errorf("Skip=%q Plain=%q Env=%v", got.Skip, got.Plain, got.Env)
	}
	if !reflect.DeepEqual(got.Free, tree["free"]) {
		t.Errorf("free-form value = %#v", got.Free)
	}
	var warned []string
	for _, w := range d.warnings {
		warned = append(warned, w.Path)
	}
	if want := []string{"t.-", "t.Skip"}; !reflect.DeepEqual(warned, want) {
		t.Errorf("warnings at %v, want %v", warned, want)
	}
}

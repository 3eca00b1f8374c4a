package descriptors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v2"
)

// Document is the content of one descriptor file: VNFDs and/or NSDs.
type Document struct {
	VNFDs []VNFD
	NSDs  []NSD
}

// Warning reports something Parse accepted but did not use, so that an
// operator importing a foreign descriptor sees what stitch ignores.
type Warning struct {
	Path    string
	Message string
}

func (w Warning) String() string { return w.Path + ": " + w.Message }

// MaxDocumentSize bounds what Parse reads. Real descriptors are a few
// kilobytes; the bound keeps a hostile upload from costing much.
const MaxDocumentSize = 8 << 20

// Top-level keys. SOL006 as OSM publishes it wraps NSDs twice
// (`nsd: {nsd: [...]}`); YANG-aware tools prefix the module name.
const (
	keyVNFD     = "vnfd"
	keyNSD      = "nsd"
	keyVNFDYang = "etsi-nfv-vnfd:vnfd"
	keyNSDYang  = "etsi-nfv-nsd:nsd"
)

// Parse reads VNFDs and NSDs from YAML or JSON, applies defaults and returns
// warnings for every field stitch does not use. It does not validate; see
// ValidateVNFD and ValidateNSD. Every error satisfies errors.Is(err,
// ErrInvalid); type errors are a *ValidationError naming each field path.
// Warnings are returned even when err is not nil.
func Parse(data []byte) (*Document, []Warning, error) {
	if len(data) > MaxDocumentSize {
		return nil, nil, fmt.Errorf("%w: document is %d bytes, the limit is %d", ErrInvalid, len(data), MaxDocumentSize)
	}
	roots, err := readTree(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	d := newDecoder()
	doc := &Document{}
	for i, root := range roots {
		prefix := ""
		if len(roots) > 1 {
			prefix = fmt.Sprintf("doc[%d]", i)
		}
		d.root(prefix, root, doc)
	}
	if len(d.problems) > 0 {
		return nil, d.warnings, &ValidationError{Problems: d.problems}
	}
	if len(doc.VNFDs) == 0 && len(doc.NSDs) == 0 {
		return nil, d.warnings, fmt.Errorf("%w: no vnfd or nsd in the document", ErrInvalid)
	}
	for i := range doc.VNFDs {
		doc.VNFDs[i].SetDefaults()
	}
	for i := range doc.NSDs {
		doc.NSDs[i].SetDefaults()
	}
	return doc, d.warnings, nil
}

func (d *decoder) root(prefix string, n any, doc *Document) {
	obj, ok := n.(map[string]any)
	if !ok {
		path := prefix
		if path == "" {
			path = "document"
		}
		d.typeError(path, "a mapping with vnfd and/or nsd", n)
		return
	}
	for _, key := range sortedKeys(obj) {
		path := joinPath(prefix, key)
		switch key {
		case keyVNFD, keyVNFDYang:
			decodeList(d, path, keyVNFD, obj[key], &doc.VNFDs)
		case keyNSD, keyNSDYang:
			decodeList(d, path, keyNSD, obj[key], &doc.NSDs)
		case "vnfd:vnfd-catalog", "nsd:nsd-catalog", "vnfd-catalog", "nsd-catalog":
			// OSM's own information model before release NINE: not SOL006,
			// and it would only load as an empty document.
			d.problem(path, "OSM's pre-SOL006 information model is not supported; convert the package to SOL006 (OSM release NINE and later use it)")
		default:
			d.warn(path, unusedField)
		}
	}
}

// decodeList appends the descriptors under one top-level key to out. It
// accepts a single descriptor, a list of them, or the SOL006 wrapper
// `{<key>: [...]}` that OSM uses for NSDs.
func decodeList[T any](d *decoder, path, key string, n any, out *[]T) {
	switch t := n.(type) {
	case nil:
		return
	case []any:
		var list []T
		d.decode(path, t, reflect.ValueOf(&list).Elem())
		*out = append(*out, list...)
	case map[string]any:
		inner, wrapped := t[key]
		if _, hasID := t["id"]; wrapped && !hasID {
			for _, k := range sortedKeys(t) {
				if k != key {
					d.warn(joinPath(path, k), unusedField)
				}
			}
			path = joinPath(path, key)
			switch inner.(type) {
			case nil:
				return
			case []any:
				decodeList(d, path, key, inner, out)
				return
			}
			n = inner
		}
		var one T
		d.decode(path, n, reflect.ValueOf(&one).Elem())
		*out = append(*out, one)
	default:
		d.typeError(path, "a descriptor or a list of descriptors", n)
	}
}

// Marshal writes doc as "yaml" or "json" in the shape OSM uses
// (`vnfd: {...}` for one VNFD, a list for several; `nsd: {nsd: [...]}`), so
// that Parse reads it back unchanged.
func Marshal(doc *Document, format string) ([]byte, error) {
	if doc == nil || len(doc.VNFDs) == 0 && len(doc.NSDs) == 0 {
		return nil, fmt.Errorf("marshal: %w: no vnfd or nsd to write", ErrInvalid)
	}
	var wire struct {
		VNFD any `json:"vnfd,omitempty"`
		NSD  *struct {
			NSD []NSD `json:"nsd"`
		} `json:"nsd,omitempty"`
	}
	switch len(doc.VNFDs) {
	case 0:
	case 1:
		wire.VNFD = doc.VNFDs[0]
	default:
		wire.VNFD = doc.VNFDs
	}
	if len(doc.NSDs) > 0 {
		wire.NSD = &struct {
			NSD []NSD `json:"nsd"`
		}{doc.NSDs}
	}
	js, err := json.Marshal(wire)
	if err != nil {
		return nil, fmt.Errorf("marshal: %w", err)
	}
	switch strings.ToLower(format) {
	case "json":
		var buf bytes.Buffer
		if err := json.Indent(&buf, js, "", "  "); err != nil {
			return nil, fmt.Errorf("marshal: %w", err)
		}
		buf.WriteByte('\n')
		return buf.Bytes(), nil
	case "yaml", "yml":
		return jsonToYAML(js)
	default:
		return nil, fmt.Errorf("marshal: unknown format %q (want yaml or json)", format)
	}
}

// jsonToYAML re-encodes JSON as YAML keeping the key order of the Go
// structs, so written descriptors read like the model (id first).
func jsonToYAML(js []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	v, err := orderedJSON(dec)
	if err != nil {
		return nil, fmt.Errorf("marshal: %w", err)
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal: %w", err)
	}
	return out, nil
}

func orderedJSON(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			list := []any{}
			for dec.More() {
				v, err := orderedJSON(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := dec.Token()
			return list, err
		}
		obj := yaml.MapSlice{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := orderedJSON(dec)
			if err != nil {
				return nil, err
			}
			obj = append(obj, yaml.MapItem{Key: k, Value: v})
		}
		_, err := dec.Token()
		return obj, err
	case json.Number:
		if i, err := strconv.ParseInt(t.String(), 10, 64); err == nil {
			return i, nil
		}
		return strconv.ParseFloat(t.String(), 64)
	default:
		return t, nil
	}
}

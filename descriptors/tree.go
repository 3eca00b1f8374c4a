package descriptors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v2"
)

// Parsing happens in two steps: the input becomes a generic tree, then the
// tree is decoded into the model by reflection (decode.go). Going through a
// generic tree is what lets Parse see every field an author wrote, so that
// nothing stitch does not understand is dropped silently.
//
// Tree values are map[string]any, []any, string, json.Number, bool, nil and
// literal (a YAML number or boolean with its original spelling). Numbers
// stay text so that one written where stitch expects a string (OSM's
// `version: 1.0`) is kept as written.

// maxDepth bounds nesting. Real descriptors nest about ten levels; the bound
// keeps hostile input from recursing deeply through the decoder.
const maxDepth = 64

var errTooDeep = fmt.Errorf("nesting deeper than %d levels", maxDepth)

// readTree returns the non-empty documents in data. JSON is recognised by
// being valid JSON; everything else is read as a YAML stream, so several
// `---`-separated documents may be given at once.
func readTree(data []byte) ([]any, error) {
	if json.Valid(data) {
		root, err := readJSON(data)
		if err != nil {
			return nil, err
		}
		if root == nil {
			return nil, nil
		}
		return []any{root}, nil
	}
	return readYAML(data)
}

func readJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := readJSONValue(dec, 0)
	if err != nil {
		line, col := lineCol(data, dec.InputOffset())
		return nil, fmt.Errorf("json: line %d column %d: %w", line, col, err)
	}
	return v, nil
}

// readJSONValue reads one value token by token rather than with
// json.Unmarshal, because Unmarshal silently keeps the last of duplicate keys.
func readJSONValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // string, json.Number, bool or nil
	}
	if depth >= maxDepth {
		return nil, errTooDeep
	}
	if delim == '[' {
		list := []any{}
		for dec.More() {
			v, err := readJSONValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err := dec.Token() // ']'
		return list, err
	}
	obj := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string) // the decoder guarantees object keys are strings
		if _, dup := obj[key]; dup {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		v, err := readJSONValue(dec, depth+1)
		if err != nil {
			return nil, err
		}
		obj[key] = v
	}
	_, err = dec.Token() // '}'
	return obj, err
}

// lineCol turns a byte offset into 1-based line and column numbers.
func lineCol(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

func readYAML(data []byte) ([]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	// Strict mode rejects duplicate keys, a common copy-and-paste mistake
	// that would otherwise silently keep one of the values.
	dec.SetStrict(true)
	var docs []any
	for {
		var root *yamlNode
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		v, err := root.tree(0)
		if err != nil {
			return nil, fmt.Errorf("yaml: %w", err)
		}
		if v != nil { // an empty document, e.g. after a trailing "---"
			docs = append(docs, v)
		}
	}
}

// yamlNode is one YAML node as written. yaml.v2 can only hand out resolved
// values, and YAML 1.1 resolution changes what authors meant in string
// fields: `version: 1.10` would become "1.1", an env key `N` would become
// "false", `id: 010` would become "8". yamlNode keeps each scalar's text
// next to its resolved value, and the decoder picks by target type.
type yamlNode struct {
	mapping  map[string]*yamlNode
	sequence []*yamlNode
	isMap    bool
	isSeq    bool
	text     string
	value    any // resolved scalar: string, int, int64, uint64, float64, bool
}

// UnmarshalYAML learns the node's kind by attempting each in turn. yaml.v2
// reports a kind mismatch as a *yaml.TypeError naming the attempted Go
// type, and decodes nothing for it, so each failed attempt is cheap.
// Errors from inside (duplicate keys, non-scalar keys, children's errors)
// are returned as plain errors so they are never taken for a mismatch.
func (y *yamlNode) UnmarshalYAML(unmarshal func(any) error) error {
	var m map[string]*yamlNode
	err := unmarshal(&m)
	if err == nil {
		// A null spelled NULL or Null reaches here as a nil map; a real
		// mapping, even {}, is never nil.
		y.mapping, y.isMap = m, m != nil
		return nil
	}
	if !isKindMismatch(err, m) {
		return plainError(err)
	}
	var s []*yamlNode
	if err = unmarshal(&s); err == nil {
		y.sequence, y.isSeq = s, true
		return nil
	}
	if !isKindMismatch(err, s) {
		return plainError(err)
	}
	if err := unmarshal(&y.value); err != nil {
		return plainError(err)
	}
	if err := unmarshal(&y.text); err != nil {
		return plainError(err)
	}
	return nil
}

func isKindMismatch(err error, target any) bool {
	var te *yaml.TypeError
	return errors.As(err, &te) && len(te.Errors) == 1 &&
		strings.HasSuffix(te.Errors[0], " into "+reflect.TypeOf(target).String())
}

func plainError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return errors.New("yaml: " + strings.Join(te.Errors, "; "))
	}
	return err
}

// tree converts the node into the generic tree. Scalars that YAML did not
// resolve to a string become a literal carrying both spellings.
func (y *yamlNode) tree(depth int) (any, error) {
	switch {
	case y == nil:
		return nil, nil
	case y.isMap, y.isSeq:
		if depth >= maxDepth {
			return nil, errTooDeep
		}
	}
	switch {
	case y.isMap:
		obj := make(map[string]any, len(y.mapping))
		for k, child := range y.mapping {
			v, err := child.tree(depth + 1)
			if err != nil {
				return nil, err
			}
			obj[k] = v
		}
		return obj, nil
	case y.isSeq:
		list := make([]any, len(y.sequence))
		for i, child := range y.sequence {
			v, err := child.tree(depth + 1)
			if err != nil {
				return nil, err
			}
			list[i] = v
		}
		return list, nil
	}
	switch v := y.value.(type) {
	case nil:
		return nil, nil
	case string:
		return v, nil
	case bool:
		return literal{text: y.text, value: v}, nil
	case int:
		return literal{text: y.text, value: json.Number(strconv.Itoa(v))}, nil
	case int64:
		return literal{text: y.text, value: json.Number(strconv.FormatInt(v, 10))}, nil
	case uint64:
		return literal{text: y.text, value: json.Number(strconv.FormatUint(v, 10))}, nil
	case float64:
		// Infinities and NaN come out as "+Inf" and "NaN", which number
		// fields reject as not finite.
		return literal{text: y.text, value: json.Number(strconv.FormatFloat(v, 'g', -1, 64))}, nil
	default:
		return nil, fmt.Errorf("unsupported scalar %q of type %T", y.text, v)
	}
}

// literal is a YAML scalar that resolved to a number or boolean: string
// fields take text, the others take value (json.Number or bool).
type literal struct {
	text  string
	value any
}

func (l literal) MarshalJSON() ([]byte, error) { return json.Marshal(l.value) }

// describe names a tree value for error messages.
func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		const maxRunes = 40
		if r := []rune(t); len(r) > maxRunes {
			t = string(r[:maxRunes]) + "…"
		}
		return fmt.Sprintf("string %q", t)
	case json.Number:
		return "number " + t.String()
	case literal:
		if _, ok := t.value.(bool); ok {
			return "boolean " + t.text
		}
		return "number " + t.text
	case bool:
		return "boolean " + strconv.FormatBool(t)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

package descriptors

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// unusedField is the warning for a field the model has no place for.
const unusedField = "field not used by stitch, ignored"

// decoder fills model values from a generic tree (see tree.go), matching
// object keys against the json tags of the Go structs. It collects every
// type error and every unknown field instead of stopping at the first, so
// an author sees all of them at once.
type decoder struct {
	warnings []Warning
	problems []Problem
	fields   map[reflect.Type]map[string][]int // json name → field index path
}

func newDecoder() *decoder {
	return &decoder{fields: map[reflect.Type]map[string][]int{}}
}

func (d *decoder) warn(path, msg string) {
	d.warnings = append(d.warnings, Warning{Path: path, Message: msg})
}

func (d *decoder) problem(path, reason string) {
	d.problems = append(d.problems, Problem{Path: path, Reason: reason})
}

func (d *decoder) typeError(path, want string, got any) {
	d.problem(path, fmt.Sprintf("expected %s, got %s", want, describe(got)))
}

// decode stores tree value n into v, reporting problems under path.
func (d *decoder) decode(path string, n any, v reflect.Value) {
	if n == nil {
		return // null leaves the zero value, as with encoding/json
	}
	// Types with their own JSON form (Duration) decode themselves.
	if v.CanAddr() {
		if u, ok := v.Addr().Interface().(json.Unmarshaler); ok {
			raw, err := json.Marshal(n)
			if err == nil {
				err = u.UnmarshalJSON(raw)
			}
			if err != nil {
				d.problem(path, err.Error())
			}
			return
		}
	}
	// A pointer passes the literal on to the value it points to.
	if l, ok := n.(literal); ok && v.Kind() != reflect.Pointer {
		if v.Kind() == reflect.String {
			// OSM writes numeric-looking ids and versions unquoted; keep
			// them as written.
			v.SetString(l.text)
			return
		}
		n = l.value
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.decode(path, n, p.Elem())
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(path, n, v)
	case reflect.Slice:
		d.decodeSlice(path, n, v)
	case reflect.Map:
		d.decodeMap(path, n, v)
	case reflect.String:
		switch t := n.(type) {
		case string:
			v.SetString(t)
		case json.Number:
			v.SetString(t.String()) // JSON keeps the number's spelling
		case bool:
			v.SetString(strconv.FormatBool(t))
		default:
			d.typeError(path, "a string", n)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		num, ok := n.(json.Number)
		if !ok {
			d.typeError(path, "an integer", n)
			return
		}
		i, ok := parseInteger(num.String())
		if !ok || v.OverflowInt(i) {
			d.problem(path, fmt.Sprintf("expected an integer, got number %s", num))
			return
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		num, ok := n.(json.Number)
		if !ok {
			d.typeError(path, "a number", n)
			return
		}
		f, err := strconv.ParseFloat(num.String(), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || v.OverflowFloat(f) {
			d.problem(path, fmt.Sprintf("expected a finite number, got %s", num))
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		b, ok := n.(bool)
		if !ok {
			d.typeError(path, "true or false", n)
			return
		}
		v.SetBool(b)
	case reflect.Interface:
		if v.NumMethod() == 0 {
			v.Set(reflect.ValueOf(n)) // free-form content
			return
		}
		fallthrough
	default:
		d.problem(path, fmt.Sprintf("stitch cannot decode into Go type %s", v.Type()))
	}
}

// parseInteger accepts integers also when written as integral floats
// ("2.0", "1e3"), which YAML and JSON tools sometimes produce.
func parseInteger(s string) (int64, bool) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

func (d *decoder) decodeStruct(path string, n any, v reflect.Value) {
	obj, ok := n.(map[string]any)
	if !ok {
		d.typeError(path, "an object", n)
		return
	}
	fields := d.fieldsOf(v.Type())
	for _, key := range sortedKeys(obj) {
		p := joinPath(path, key)
		index, ok := fields[key]
		if !ok {
			d.warn(p, unusedField+suggest(key, fields))
			continue
		}
		d.decode(p, obj[key], fieldByIndex(v, index))
	}
}

func (d *decoder) decodeSlice(path string, n any, v reflect.Value) {
	list, ok := n.([]any)
	if !ok {
		d.typeError(path, "a list", n)
		return
	}
	s := reflect.MakeSlice(v.Type(), len(list), len(list))
	for i, e := range list {
		d.decode(fmt.Sprintf("%s[%d]", path, i), e, s.Index(i))
	}
	v.Set(s)
}

// decodeMap handles free-form maps such as Program.Env: keys are the
// author's, so none of them is reported as unknown.
func (d *decoder) decodeMap(path string, n any, v reflect.Value) {
	obj, ok := n.(map[string]any)
	if !ok {
		d.typeError(path, "an object", n)
		return
	}
	t := v.Type()
	if t.Key().Kind() != reflect.String {
		d.problem(path, fmt.Sprintf("stitch cannot decode into Go type %s", t))
		return
	}
	m := reflect.MakeMapWithSize(t, len(obj))
	for _, key := range sortedKeys(obj) {
		e := reflect.New(t.Elem()).Elem()
		d.decode(joinPath(path, key), obj[key], e)
		m.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), e)
	}
	v.Set(m)
}

// fieldsOf maps the json names of a struct type to field index paths,
// flattening untagged embedded structs as encoding/json does (outer fields
// win over embedded ones).
func (d *decoder) fieldsOf(t reflect.Type) map[string][]int {
	if f, ok := d.fields[t]; ok {
		return f
	}
	f := map[string][]int{}
	collectFields(t, nil, f)
	d.fields[t] = f
	return f
}

func collectFields(t reflect.Type, index []int, out map[string][]int) {
	var embedded []int
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				if !sf.IsExported() {
					continue // reflection cannot allocate it
				}
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				embedded = append(embedded, i)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if _, taken := out[name]; !taken {
			out[name] = append(slices.Clone(index), i)
		}
	}
	for _, i := range embedded {
		ft := t.Field(i).Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		collectFields(ft, append(slices.Clone(index), i), out)
	}
}

// fieldByIndex is reflect.Value.FieldByIndex, allocating nil embedded
// pointers on the way instead of panicking.
func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for _, i := range index {
		if v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(i)
	}
	return v
}

// suggest offers the known field an unknown key was probably meant to be:
// the same name in another letter case or with '_' for '-' (OSM's older
// information model used underscores).
func suggest(key string, fields map[string][]int) string {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", "-") }
	want := norm(key)
	for _, name := range sortedKeys(fields) {
		if norm(name) == want {
			return fmt.Sprintf(" (did you mean %q?)", name)
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

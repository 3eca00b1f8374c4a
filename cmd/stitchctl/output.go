package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"sigs.k8s.io/yaml"
)

// print writes v as JSON or YAML (the API's raw objects), or, for -o
// table, whatever table writes to a tabwriter.
func (a *app) print(v any, table func(w io.Writer)) error {
	switch a.output {
	case "json":
		enc := json.NewEncoder(a.out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		// Via JSON, so the keys are the API's field names.
		b, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode YAML: %w", err)
		}
		_, err = a.out.Write(b)
		return err
	default:
		tw := newTable(a.out)
		table(tw)
		return tw.Flush()
	}
}

// info prints a message meant for people: on out for -o table, where it is
// the result; nowhere for json|yaml, whose output must stay parseable.
func (a *app) info(format string, args ...any) {
	if a.output == "table" {
		fmt.Fprintf(a.out, format+"\n", args...)
	}
}

// progress is where watch progress goes: with the results for -o table,
// on errOut for -o json|yaml, which print the final object alone.
func (a *app) progress() io.Writer {
	if a.output == "table" {
		return a.out
	}
	return a.errOut
}

func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// row writes one table row; empty cells show as "-" so columns stay
// aligned for people and for awk.
func row(w io.Writer, cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
	}
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// field writes one "Name:  value" line of a detail view.
func field(w io.Writer, name, value string) {
	if value == "" {
		value = "-"
	}
	fmt.Fprintf(w, "%s:\t%s\n", name, value)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format(time.DateTime)
}

// fmtMap prints a map as "k=v, k=v" in key order, so output is stable.
func fmtMap[V any](m map[string]V) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func fmtInt(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

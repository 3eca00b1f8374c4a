package descriptors

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParse(t *testing.T, data []byte) (*Document, []Warning) {
	t.Helper()
	doc, warnings, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return doc, warnings
}

// webchain returns a fresh copy of the stitch sample, which is valid; tests
// mutate it to produce one mistake at a time.
func webchain(t *testing.T) *Document {
	t.Helper()
	doc, warnings := mustParse(t, readTestdata(t, "stitch/webchain.yaml"))
	if len(warnings) > 0 {
		t.Fatalf("webchain sample has warnings: %v", warnings)
	}
	return doc
}

func catalogOf(doc *Document) map[string]*VNFD {
	m := map[string]*VNFD{}
	for i := range doc.VNFDs {
		m[doc.VNFDs[i].ID] = &doc.VNFDs[i]
	}
	return m
}

func vnfdByID(t *testing.T, doc *Document, id string) *VNFD {
	t.Helper()
	v, ok := catalogOf(doc)[id]
	if !ok {
		t.Fatalf("no VNFD %q", id)
	}
	return v
}

func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got nil")
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a *ValidationError, got %T: %v", err, err)
	}
	return ve.Problems
}

// wantProblem asserts that err reports a problem at exactly path whose
// reason contains reason.
func wantProblem(t *testing.T, err error, path, reason string) {
	t.Helper()
	problems := problemsOf(t, err)
	for _, p := range problems {
		if p.Path == path && strings.Contains(p.Reason, reason) {
			return
		}
	}
	t.Errorf("no problem %q containing %q; got:\n%v", path, reason, err)
}

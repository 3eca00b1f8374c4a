package samplekit

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func writeFile(t *testing.T, path string, v any) {
	t.Helper()
	var b []byte
	switch v := v.(type) {
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestBindingsMissingFileIsEmpty(t *testing.T) {
	b := NewBindings(filepath.Join(t.TempDir(), "none.json"), nil)
	if len(b.Next()) != 0 || len(b.Deps("x")) != 0 || b.Version() != 0 {
		t.Fatalf("next=%v deps=%v version=%d", b.Next(), b.Deps("x"), b.Version())
	}
	if changed, err := b.Reload(); changed || err != nil {
		t.Fatalf("Reload = %v, %v", changed, err)
	}
}

func TestBindingsReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.json")
	writeFile(t, path, BindingsSet{Next: []string{"10.0.0.1:80"}, Deps: map[string][]string{"db": {"10.0.0.9:80"}}})
	b := NewBindings(path, nil)
	if got := b.Next(); !slices.Equal(got, []string{"10.0.0.1:80"}) {
		t.Fatalf("Next = %v", got)
	}
	if got := b.Deps("db"); !slices.Equal(got, []string{"10.0.0.9:80"}) {
		t.Fatalf("Deps(db) = %v", got)
	}
	if got := b.DepProfiles(); !slices.Equal(got, []string{"db"}) {
		t.Fatalf("DepProfiles = %v", got)
	}
	v, ch := b.Version(), b.Changed()

	// Same content, new file: no change.
	writeFile(t, path, BindingsSet{Next: []string{"10.0.0.1:80"}, Deps: map[string][]string{"db": {"10.0.0.9:80"}}})
	if changed, err := b.Reload(); changed || err != nil {
		t.Fatalf("Reload of same content = %v, %v", changed, err)
	}

	writeFile(t, path, BindingsSet{Next: []string{"10.0.0.1:80", "10.0.0.2:80"}})
	if changed, err := b.Reload(); !changed || err != nil {
		t.Fatalf("Reload = %v, %v", changed, err)
	}
	select {
	case <-ch:
	default:
		t.Fatal("Changed channel not closed")
	}
	if b.Version() != v+1 || len(b.Next()) != 2 || b.Deps("db") != nil {
		t.Fatalf("version=%d next=%v deps=%v", b.Version(), b.Next(), b.Deps("db"))
	}

	// A broken file keeps the last good set.
	writeFile(t, path, "{not json")
	if changed, err := b.Reload(); changed || err == nil {
		t.Fatalf("Reload of bad file = %v, %v", changed, err)
	}
	if changed, err := b.Reload(); changed || err != nil {
		t.Fatalf("second Reload of the same bad file = %v, %v (want silence)", changed, err)
	}
	writeFile(t, path, `{"next": ["no-port"]}`)
	if _, err := b.Reload(); err == nil {
		t.Fatal("address without port accepted")
	}
	if len(b.Next()) != 2 {
		t.Fatalf("bad file changed the set: %v", b.Next())
	}

	// Removing the file empties the set.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if changed, err := b.Reload(); !changed || err != nil || b.Next() != nil {
		t.Fatalf("Reload after remove = %v, %v, next=%v", changed, err, b.Next())
	}
}

func TestBindingsReturnsCopies(t *testing.T) {
	b := StaticBindings(BindingsSet{Next: []string{"a:1", "b:2"}})
	b.Next()[0] = "x:9"
	if b.Next()[0] != "a:1" {
		t.Fatal("caller mutated the bindings")
	}
}

func TestBindingsRunPolls(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b.json")
	b := NewBindings(path, nil)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { b.Run(ctx, 10*time.Millisecond); close(done) }()
	defer func() { cancel(); <-done }()

	ch := b.Changed()
	writeFile(t, path, BindingsSet{Next: []string{"127.0.0.1:1"}})
	select {
	case <-ch:
	case <-time.After(2 * time.Second):
		t.Fatal("change not seen")
	}
	if got := b.Next(); !slices.Equal(got, []string{"127.0.0.1:1"}) {
		t.Fatalf("Next = %v", got)
	}
}

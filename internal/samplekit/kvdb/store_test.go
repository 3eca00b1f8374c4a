package kvdb

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

func TestStorePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.json")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put("bin", []byte{0, 0xff, 'x'}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Incr("n", 5); err != nil || n != 5 {
		t.Fatalf("Incr = %d, %v", n, err)
	}
	if err := s.Put("gone", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Delete("gone"); !ok || err != nil {
		t.Fatalf("Delete = %v, %v", ok, err)
	}

	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := s2.Get("bin"); !ok || string(v) != "\x00\xffx" {
		t.Fatalf("bin = %q, %v", v, ok)
	}
	if v, _ := s2.Get("n"); string(v) != "5" {
		t.Fatalf("n = %q", v)
	}
	if _, ok := s2.Get("gone"); ok || s2.Len() != 2 {
		t.Fatalf("deleted key back, len %d", s2.Len())
	}
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".kv.json.tmp*"))
	if len(matches) != 0 {
		t.Fatalf("temporary files left: %v", matches)
	}
}

func TestStoreRollsBackWhenPersistFails(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(dir, "kv.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put("a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil { // the next write cannot land
		t.Fatal(err)
	}
	if err := s.Put("a", []byte("2")); err == nil {
		t.Fatal("Put succeeded without its file")
	}
	if _, err := s.Incr("b", 1); err == nil {
		t.Fatal("Incr succeeded without its file")
	}
	if v, _ := s.Get("a"); string(v) != "1" {
		t.Fatalf("a = %q after failed write, want 1", v)
	}
	if _, ok := s.Get("b"); ok {
		t.Fatal("b exists after failed write")
	}
}

func TestStoreIncr(t *testing.T) {
	s, _ := Open("")
	if err := s.Put("txt", []byte("abc")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Incr("txt", 1); !errors.Is(err, ErrNotInteger) {
		t.Fatalf("Incr on text = %v", err)
	}
	_ = s.Put("big", []byte(strconv.FormatInt(math.MaxInt64, 10)))
	if _, err := s.Incr("big", 1); !errors.Is(err, ErrNotInteger) {
		t.Fatalf("overflow = %v", err)
	}
	if n, err := s.Incr("neg", -3); err != nil || n != -3 {
		t.Fatalf("Incr(-3) = %d, %v", n, err)
	}

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if _, err := s.Incr("c", 1); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if v, _ := s.Get("c"); string(v) != "800" {
		t.Fatalf("c = %s after 800 concurrent increments", v)
	}
}

// Package kvdb is the sample key-value database: an in-memory map with
// optional write-through persistence to one file.
package kvdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// ErrNotInteger means an increment met a value that is not a decimal
// integer, or would overflow one.
var ErrNotInteger = errors.New("value is not an integer")

// Store is the database. With a path every change is written through to
// the file (whole map, atomic rename) before it is acknowledged; a change
// the file refused is rolled back. Rewriting the whole map costs O(size)
// per write, which suits a sample's few keys.
type Store struct {
	path string

	mu   sync.Mutex
	data map[string][]byte
}

// Open loads path when it exists; an empty path keeps data in memory only.
func Open(path string) (*Store, error) {
	s := &Store{path: path, data: map[string][]byte{}}
	if path == "" {
		return s, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Values are []byte, so the file holds them base64-encoded: exact for
	// any bytes a client PUTs.
	if err := json.Unmarshal(b, &s.data); err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if s.data == nil {
		s.data = map[string][]byte{}
	}
	return s, nil
}

// Get returns the value of key.
func (s *Store) Get(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[key]
	return v, ok
}

// Len is the number of keys.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.data)
}

// Put sets key to value.
func (s *Store) Put(key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.change(key, value, true)
}

// Delete removes key and reports whether it was there.
func (s *Store) Delete(key string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.data[key]; !ok {
		return false, nil
	}
	return true, s.change(key, nil, false)
}

// Incr adds delta to the integer at key (missing counts as 0) and returns
// the new value.
func (s *Store) Incr(key string, delta int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cur int64
	if v, ok := s.data[key]; ok {
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", key, ErrNotInteger)
		}
		cur = n
	}
	if delta > 0 && cur > math.MaxInt64-delta || delta < 0 && cur < math.MinInt64-delta {
		return 0, fmt.Errorf("%s: %w (overflow)", key, ErrNotInteger)
	}
	next := cur + delta
	if err := s.change(key, []byte(strconv.FormatInt(next, 10)), true); err != nil {
		return 0, err
	}
	return next, nil
}

// change applies one change and writes it through, undoing it when the
// write fails. s.mu is held.
func (s *Store) change(key string, value []byte, set bool) error {
	old, had := s.data[key]
	if set {
		s.data[key] = value
	} else {
		delete(s.data, key)
	}
	if err := s.persist(); err != nil {
		if had {
			s.data[key] = old
		} else {
			delete(s.data, key)
		}
		return err
	}
	return nil
}

// persist writes the map to a temporary file in the same directory and
// renames it over the old one, so a crash leaves either version whole.
func (s *Store) persist() error {
	if s.path == "" {
		return nil
	}
	b, err := json.Marshal(s.data)
	if err != nil {
		return fmt.Errorf("persist: %w", err)
	}
	dir := filepath.Dir(s.path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(s.path)+".tmp*")
	if err != nil {
		return fmt.Errorf("persist: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, s.path)
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("persist %s: %w", s.path, werr)
	}
	// Make the rename itself durable.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

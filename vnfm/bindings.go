package vnfm

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Bindings tell a running program where its neighbours are: the next network
// function of its chain and the constituents it depends on. Programs re-read
// the file when it changes.
type Bindings struct {
	Next []string            `json:"next"`
	Deps map[string][]string `json:"deps"`
}

// BindingsPath is where an instance's bindings file lives.
func (m *Manager) BindingsPath(name string) string {
	return filepath.Join(m.stateDir, "bindings", name+".json")
}

// WriteBindings replaces an instance's bindings atomically, so a program
// never reads a torn file.
func (m *Manager) WriteBindings(name string, b Bindings) error {
	if b.Next == nil {
		b.Next = []string{}
	}
	if b.Deps == nil {
		b.Deps = map[string][]string{}
	}
	data, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("vnfm: encode bindings: %w", err)
	}
	path := m.BindingsPath(name)
	if old, err := os.ReadFile(path); err == nil && string(old) == string(data) {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".bindings-*")
	if err != nil {
		return fmt.Errorf("vnfm: bindings of %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("vnfm: bindings of %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("vnfm: bindings of %s: %w", name, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("vnfm: bindings of %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("vnfm: bindings of %s: %w", name, err)
	}
	return nil
}

package samplekit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"os"
	"slices"
	"sync"
	"time"
)

// DefaultBindingsPoll is how often Bindings.Run looks at the file. The
// VNFM replaces the file by rename, so a stat per tick is all it costs.
const DefaultBindingsPoll = 250 * time.Millisecond

// BindingsSet is the content of the bindings file.
type BindingsSet struct {
	// Next lists the instances ("ip:port") of the next function in the
	// service chain.
	Next []string `json:"next"`
	// Deps lists, per vnf-profile id this constituent depends on, the
	// instances of that profile.
	Deps map[string][]string `json:"deps"`
}

func (s BindingsSet) equal(o BindingsSet) bool {
	return slices.Equal(s.Next, o.Next) && maps.EqualFunc(s.Deps, o.Deps, slices.Equal)
}

// Bindings follows the bindings file the VNFM rewrites whenever instances
// come or go, so a program uses the new set without a restart. A missing
// file means no neighbours; a file that does not parse is ignored (the last
// good set stays) because a half-written file must not empty a chain.
type Bindings struct {
	path   string
	logger *slog.Logger

	mu      sync.RWMutex
	set     BindingsSet
	version uint64
	changed chan struct{} // closed and replaced on every change
	stamp   fileStamp     // of the last file looked at, good or bad
}

// fileStamp tells whether the file changed since it was last read. The
// inode is part of it because a rename within one mtime tick may keep size
// and mtime. The zero value is "no file".
type fileStamp struct {
	info os.FileInfo // nil when the file does not exist
}

func (a fileStamp) same(b fileStamp) bool {
	if a.info == nil || b.info == nil {
		return a.info == nil && b.info == nil
	}
	return a.info.Size() == b.info.Size() && a.info.ModTime().Equal(b.info.ModTime()) && os.SameFile(a.info, b.info)
}

// NewBindings reads path once (an empty path means no bindings, ever).
// A read error is logged, not returned: the program starts with an empty
// set and picks the file up when it becomes readable.
func NewBindings(path string, logger *slog.Logger) *Bindings {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b := &Bindings{path: path, logger: logger, changed: make(chan struct{})}
	if _, err := b.Reload(); err != nil {
		logger.Warn("bindings not loaded", "path", path, "err", err)
	}
	return b
}

// StaticBindings returns Bindings fixed to set, for programs run by hand
// and for tests.
func StaticBindings(set BindingsSet) *Bindings {
	return &Bindings{logger: slog.New(slog.DiscardHandler), set: normalize(set), changed: make(chan struct{})}
}

// Next returns the current instances of the next function in the chain.
func (b *Bindings) Next() []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return slices.Clone(b.set.Next)
}

// Deps returns the current instances of the constituent profile.
func (b *Bindings) Deps(profile string) []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return slices.Clone(b.set.Deps[profile])
}

// DepProfiles returns the profiles this instance has dependencies on,
// sorted.
func (b *Bindings) DepProfiles() []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return slices.Sorted(maps.Keys(b.set.Deps))
}

// Version counts the changes seen so far.
func (b *Bindings) Version() uint64 {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.version
}

// Changed returns a channel closed at the next change.
func (b *Bindings) Changed() <-chan struct{} {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.changed
}

// Run polls the file every interval (DefaultBindingsPoll when zero) until
// ctx ends.
func (b *Bindings) Run(ctx context.Context, interval time.Duration) {
	if b.path == "" {
		return
	}
	if interval <= 0 {
		interval = DefaultBindingsPoll
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := b.Reload(); err != nil {
				b.logger.Warn("bindings file ignored, keeping the last good set", "path", b.path, "err", err)
			}
		}
	}
}

// Reload reads the file if it changed since the last look and reports
// whether the set changed. An unchanged bad file is reported once.
func (b *Bindings) Reload() (bool, error) {
	if b.path == "" {
		return false, nil
	}
	st, err := stat(b.path)
	if err != nil {
		return false, err
	}
	b.mu.RLock()
	unchanged := st.same(b.stamp)
	b.mu.RUnlock()
	if unchanged {
		return false, nil
	}
	var set BindingsSet
	if st.info != nil {
		set, err = readBindings(b.path)
		if err != nil {
			b.mu.Lock()
			b.stamp = st
			b.mu.Unlock()
			return false, err
		}
	}
	return b.apply(st, normalize(set)), nil
}

func (b *Bindings) apply(st fileStamp, set BindingsSet) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stamp = st
	if set.equal(b.set) {
		return false
	}
	b.set = set
	b.version++
	close(b.changed)
	b.changed = make(chan struct{})
	b.logger.Info("bindings changed", "version", b.version, "next", set.Next, "deps", set.Deps)
	return true
}

func stat(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileStamp{}, nil
	}
	if err != nil {
		return fileStamp{}, fmt.Errorf("stat bindings: %w", err)
	}
	return fileStamp{info: fi}, nil
}

func readBindings(path string) (BindingsSet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return BindingsSet{}, fmt.Errorf("read bindings: %w", err)
	}
	var set BindingsSet
	if err := json.Unmarshal(data, &set); err != nil {
		return BindingsSet{}, fmt.Errorf("parse bindings %s: %w", path, err)
	}
	if err := checkAddrs("next", set.Next); err != nil {
		return BindingsSet{}, fmt.Errorf("parse bindings %s: %w", path, err)
	}
	for p, addrs := range set.Deps {
		if err := checkAddrs("deps."+p, addrs); err != nil {
			return BindingsSet{}, fmt.Errorf("parse bindings %s: %w", path, err)
		}
	}
	return set, nil
}

func checkAddrs(field string, addrs []string) error {
	for i, a := range addrs {
		if _, _, err := net.SplitHostPort(a); err != nil && a != "" {
			return fmt.Errorf("%s[%d] %q: %w", field, i, a, err)
		}
	}
	return nil
}

// normalize makes empty and nil the same, so equal sets compare equal.
func normalize(s BindingsSet) BindingsSet {
	out := BindingsSet{Next: slices.Clip(slices.DeleteFunc(slices.Clone(s.Next), isEmpty))}
	if len(out.Next) == 0 {
		out.Next = nil
	}
	for p, addrs := range s.Deps {
		addrs = slices.DeleteFunc(slices.Clone(addrs), isEmpty)
		if len(addrs) == 0 {
			continue
		}
		if out.Deps == nil {
			out.Deps = map[string][]string{}
		}
		out.Deps[p] = addrs
	}
	return out
}

func isEmpty(s string) bool { return s == "" }

package vnfm

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/stitchnfv/stitch/sdk/slots"
)

// SlotTarget is an instance whose session slots the VNFM collects: GET
// /slots (sdk/slots) at Addr, dialled from the instance's site.
type SlotTarget struct {
	Instance string `json:"instanceId"`
	NS       string `json:"nsInstanceId"`
	Profile  string `json:"vnfProfileId"`
	Site     string `json:"site"`
	Addr     string `json:"address"` // ip:port
}

// SlotReport is the latest report of one instance. Reports are stale when
// they are read: At says when it was taken, so that a consumer (the service
// router) can leave headroom for what changed since.
type SlotReport struct {
	SlotTarget
	slots.Snapshot
	At time.Time `json:"at,omitzero"`
	// Error is why the last read failed; the last good values stay.
	Error string `json:"error,omitempty"`
}

// maxParallelReads bounds the reads in flight, whatever the number of
// instances.
const maxParallelReads = 16

// SlotCollector keeps the latest slot report of every target, reading
// them all every interval. It is safe for concurrent use.
type SlotCollector struct {
	m        *Manager
	interval time.Duration

	mu      sync.Mutex
	targets map[string]SlotTarget
	reports map[string]SlotReport
}

// NewSlotCollector collects through m's VIM every interval (at least 10 ms).
func (m *Manager) NewSlotCollector(interval time.Duration) *SlotCollector {
	return &SlotCollector{m: m, interval: max(interval, 10*time.Millisecond),
		targets: map[string]SlotTarget{}, reports: map[string]SlotReport{}}
}

// SetTargets replaces the set of instances to collect (level-triggered:
// the orchestrator passes every healthy instance with slots each time);
// reports of instances no longer targeted are dropped.
func (c *SlotCollector) SetTargets(ts []SlotTarget) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.targets = make(map[string]SlotTarget, len(ts))
	for _, t := range ts {
		c.targets[t.Instance] = t
	}
	maps.DeleteFunc(c.reports, func(id string, _ SlotReport) bool { _, ok := c.targets[id]; return !ok })
}

// Reports returns the reports of an NS instance ("" for all), by instance.
func (c *SlotCollector) Reports(nsID string) []SlotReport {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []SlotReport
	for _, r := range c.reports {
		if nsID == "" || r.NS == nsID {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b SlotReport) int { return cmp.Compare(a.Instance, b.Instance) })
	return out
}

// Run reads every target each interval until ctx ends.
func (c *SlotCollector) Run(ctx context.Context) {
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		c.Collect(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Collect reads every target once, in parallel.
func (c *SlotCollector) Collect(ctx context.Context) {
	c.mu.Lock()
	targets := slices.Collect(maps.Values(c.targets))
	c.mu.Unlock()
	sem := make(chan struct{}, maxParallelReads)
	var wg sync.WaitGroup
	for _, t := range targets {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			snap, err := c.read(ctx, t)
			c.record(t, snap, err)
		})
	}
	wg.Wait()
}

func (c *SlotCollector) read(ctx context.Context, t SlotTarget) (slots.Snapshot, error) {
	// Longer than an interval: on a loaded host a read that misses one
	// tick still beats a report that ages until the router ignores it.
	ctx, cancel := context.WithTimeout(ctx, max(c.interval, time.Second))
	defer cancel()
	return c.m.ReadSlots(ctx, t.Site, t.Addr)
}

// ReadSlots reads an instance's slots once: GET /slots at addr, dialled
// from site.
func (m *Manager) ReadSlots(ctx context.Context, site, addr string) (slots.Snapshot, error) {
	status, body, err := m.get(ctx, site, addr, "/slots")
	if err != nil {
		return slots.Snapshot{}, err
	}
	if status != http.StatusOK {
		return slots.Snapshot{}, fmt.Errorf("GET /slots: HTTP %d", status)
	}
	var s slots.Snapshot
	if err := json.Unmarshal(body, &s); err != nil {
		return slots.Snapshot{}, fmt.Errorf("GET /slots: %w", err)
	}
	if s.Max < 0 || s.Available < 0 || s.InUse < 0 || s.Available > s.Max {
		return slots.Snapshot{}, fmt.Errorf("GET /slots: inconsistent report %+v", s)
	}
	return s, nil
}

func (c *SlotCollector) record(t SlotTarget, s slots.Snapshot, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, still := c.targets[t.Instance]; !still {
		return // untargeted while the read was in flight
	}
	r := c.reports[t.Instance]
	r.SlotTarget = t
	if err != nil {
		r.Error = err.Error()
	} else {
		r.Snapshot, r.At, r.Error = s, time.Now().UTC(), ""
	}
	c.reports[t.Instance] = r
}

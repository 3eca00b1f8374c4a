package vnfm

import (
	"cmp"
	"context"
	"slices"
	"time"
)

// TelemetryValue is the latest value of one collected path.
type TelemetryValue struct {
	Path   string   `json:"path"`          // relative to the instance's state/
	IDs    []string `json:"ids,omitempty"` // the monitoring parameters that declare it
	Value  float64  `json:"value"`
	String string   `json:"string,omitempty"` // for string leaves (oper-status)
	// Timestamp is the target's (when the value last changed); Received is
	// ours (when it was last confirmed, by a sample or heartbeat too).
	Timestamp time.Time `json:"timestamp"`
	Received  time.Time `json:"received"`
}

// TelemetryReport is what is known of one instance, for the API.
type TelemetryReport struct {
	TelemetryTarget
	Connected  bool             `json:"connected"`
	Synced     bool             `json:"synced"`
	OperStatus string           `json:"operStatus,omitempty"`
	LastHeard  time.Time        `json:"lastHeard,omitzero"`
	LastError  string           `json:"lastError,omitempty"`
	Values     []TelemetryValue `json:"values,omitempty"`
	Updates    uint64           `json:"updates"`
	Errors     uint64           `json:"subscribeErrors"`
	Reconnects uint64           `json:"reconnects"`
}

// TelemetryStats are the collector's counters, summed over its instances.
type TelemetryStats struct {
	Targets       int    `json:"targets"`
	Connected     int    `json:"connected"`
	Notifications uint64 `json:"notifications"`
	Updates       uint64 `json:"updates"`
	Deletes       uint64 `json:"deletes"`
	Coalesced     uint64 `json:"coalesced"` // changes the targets replaced by newer ones before sending (gNMI duplicates)
	Ignored       uint64 `json:"ignored"`   // updates of paths not collected or of unusable types
	Errors        uint64 `json:"subscribeErrors"`
	Reconnects    uint64 `json:"reconnects"`
}

func (c *TelemetryCollector) instance(id string) *telemetryInstance {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.instances[id]
}

// each calls f on every instance, each under its lock.
func (c *TelemetryCollector) each(f func(*telemetryInstance)) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, in := range c.instances {
		in.mu.Lock()
		f(in)
		in.mu.Unlock()
	}
}

// Value returns the latest value of an instance's monitoring parameter and
// when it was last received (confirmed by the target, changed or not).
func (c *TelemetryCollector) Value(instance, metricID string) (float64, time.Time, bool) {
	in := c.instance(instance)
	if in == nil {
		return 0, time.Time{}, false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	l, ok := in.metricLeaf(metricID)
	if !ok {
		return 0, time.Time{}, false
	}
	return l.num, time.Unix(0, l.recv), true
}

// metricLeaf (under mu) is the present numeric leaf of a metric.
func (in *telemetryInstance) metricLeaf(metricID string) (telemetryLeaf, bool) {
	rel, ok := in.metrics[metricID]
	if !ok {
		return telemetryLeaf{}, false
	}
	i, ok := in.index[rel]
	if !ok || !in.leaves[i].present || in.leaves[i].isStr {
		return telemetryLeaf{}, false
	}
	return in.leaves[i], true
}

// OperStatus returns an instance's oper-status ("UP", "DOWN").
func (c *TelemetryCollector) OperStatus(instance string) (string, bool) {
	in := c.instance(instance)
	if in == nil {
		return "", false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.operStatus()
}

func (in *telemetryInstance) operStatus() (string, bool) {
	i, ok := in.index[telemetryOperStatus]
	if !ok || !in.leaves[i].present || !in.leaves[i].isStr {
		return "", false
	}
	return in.leaves[i].str, true
}

// Silent returns the instances (sorted) that sent nothing, not even a
// heartbeat, for longer than after; those never heard count from when
// they were first targeted.
func (c *TelemetryCollector) Silent(now time.Time, after time.Duration) []string {
	var out []string
	c.each(func(in *telemetryInstance) {
		last := in.lastHeard
		if last.IsZero() {
			last = in.targetedAt
		}
		if now.Sub(last) > after {
			out = append(out, in.target.Instance)
		}
	})
	slices.Sort(out)
	return out
}

// Snapshot returns the reports of an NS instance ("" for all), by instance.
func (c *TelemetryCollector) Snapshot(nsID string) []TelemetryReport {
	var out []TelemetryReport
	c.each(func(in *telemetryInstance) {
		if nsID == "" || in.target.NS == nsID {
			out = append(out, in.report())
		}
	})
	slices.SortFunc(out, func(a, b TelemetryReport) int { return cmp.Compare(a.Instance, b.Instance) })
	return out
}

func (in *telemetryInstance) report() TelemetryReport {
	r := TelemetryReport{
		TelemetryTarget: in.target, Connected: in.connected, Synced: in.synced,
		LastHeard: in.lastHeard, LastError: in.lastError,
		Updates: in.updates, Errors: in.errors, Reconnects: in.reconnects(),
	}
	r.OperStatus, _ = in.operStatus()
	ids := map[string][]string{}
	for id, rel := range in.metrics {
		ids[rel] = append(ids[rel], id)
	}
	for _, l := range in.leaves {
		if !l.present {
			continue
		}
		v := TelemetryValue{Path: l.path, IDs: ids[l.path], Timestamp: time.Unix(0, l.ts), Received: time.Unix(0, l.recv)}
		if l.isStr {
			v.String = l.str
		} else {
			v.Value = l.num
		}
		slices.Sort(v.IDs)
		r.Values = append(r.Values, v)
	}
	slices.SortFunc(r.Values, func(a, b TelemetryValue) int { return cmp.Compare(a.Path, b.Path) })
	return r
}

func (in *telemetryInstance) reconnects() uint64 {
	if in.established == 0 {
		return 0
	}
	return in.established - 1
}

// Metric implements the autoscaler's MetricSource: the mean of a
// monitoring parameter over an NS's instances of a profile, counting only
// values received within three collection periods (a missed sample or two
// is noise; more means the instance's figure is no longer known).
func (c *TelemetryCollector) Metric(_ context.Context, nsID, profile, metricID string) (float64, bool) {
	now := time.Now()
	var sum float64
	var n int
	c.each(func(in *telemetryInstance) {
		if in.target.NS != nsID || in.target.Profile != profile {
			return
		}
		l, ok := in.metricLeaf(metricID)
		if !ok {
			return
		}
		var p time.Duration
		for _, m := range in.target.Metrics {
			if m.ID == metricID {
				p = metricPeriod(m)
				break
			}
		}
		if now.Sub(time.Unix(0, l.recv)) < 3*p {
			sum += l.num
			n++
		}
	})
	if n == 0 {
		return 0, false
	}
	return sum / float64(n), true
}

// Stats returns the counters.
func (c *TelemetryCollector) Stats() TelemetryStats {
	var s TelemetryStats
	c.each(func(in *telemetryInstance) {
		s.Targets++
		if in.connected {
			s.Connected++
		}
		s.Notifications += in.notifications
		s.Updates += in.updates
		s.Deletes += in.deletes
		s.Coalesced += in.coalesced
		s.Ignored += in.ignored
		s.Errors += in.errors
		s.Reconnects += in.reconnects()
	})
	return s
}

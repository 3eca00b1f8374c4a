package control

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stitchnfv/stitch/servicerouter"
)

// scrapeTimeout bounds reading the data plane's counters for a scrape.
const scrapeTimeout = 5 * time.Second

// collector reads Router.View at scrape time, so the metrics are exactly
// the data plane's counters and the router's estimates, with nothing to
// keep in step.
type collector struct {
	r   *servicerouter.Router
	log *slog.Logger
	now func() time.Time

	newSessions, packets, bytes *prometheus.Desc // per instance
	reportedFree, freeEstimate  *prometheus.Desc
	entries, draining           *prometheus.Desc

	svcNewSessions, svcPackets, refused, overflow *prometheus.Desc // per service
}

func newCollector(r *servicerouter.Router, log *slog.Logger, now func() time.Time) *collector {
	inst := []string{"service", "instance"}
	svc := []string{"service"}
	d := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc("stitch_router_"+name, help, labels, nil)
	}
	return &collector{r: r, log: log, now: now,
		newSessions:    d("instance_new_sessions_total", "New sessions the router placed on the instance.", inst),
		packets:        d("instance_packets_total", "Packets the router encapsulated to the instance.", inst),
		bytes:          d("instance_bytes_total", "Bytes the router encapsulated to the instance.", inst),
		reportedFree:   d("instance_reported_free_slots", "Free session slots in the instance's last report.", inst),
		freeEstimate:   d("instance_free_slots_estimate", "Free slots the router expects the instance to have, less headroom for stale reports (its weight).", inst),
		entries:        d("instance_table_entries", "Maglev table entries pointing at the instance.", inst),
		draining:       d("instance_draining", "1 if the instance takes no new sessions.", inst),
		svcNewSessions: d("service_new_sessions_total", "New sessions to the service's VIP.", svc),
		svcPackets:     d("service_packets_total", "Packets to the service's VIP.", svc),
		refused:        d("service_refused_total", "New sessions refused: no instance had a free slot and there was no overflow.", svc),
		overflow:       d("service_overflow_sessions_total", "New sessions sent to the service's overflow.", svc),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.newSessions, c.packets, c.bytes, c.reportedFree, c.freeEstimate,
		c.entries, c.draining, c.svcNewSessions, c.svcPackets, c.refused, c.overflow} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	views, err := c.r.View(ctx, c.now())
	if err != nil {
		c.log.Warn("metrics: reading the router's view failed", "err", err)
		ch <- prometheus.NewInvalidMetric(c.refused, err)
		return
	}
	for _, v := range views {
		c.collectService(ch, v)
	}
}

func (c *collector) collectService(ch chan<- prometheus.Metric, v servicerouter.ServiceView) {
	counter := func(d *prometheus.Desc, x uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(x), labels...)
	}
	gauge := func(d *prometheus.Desc, x float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, x, labels...)
	}
	counter(c.svcNewSessions, v.Counters.NewFlows, v.Name)
	counter(c.svcPackets, v.Counters.Packets, v.Name)
	counter(c.refused, v.Counters.Refused, v.Name)
	var overflow uint64
	if v.Overflow != nil {
		overflow = v.Overflow.Counters.NewFlows
	}
	counter(c.overflow, overflow, v.Name)
	for _, in := range v.Instances {
		counter(c.newSessions, in.Counters.NewFlows, v.Name, in.ID)
		counter(c.packets, in.Counters.Packets, v.Name, in.ID)
		counter(c.bytes, in.Counters.Bytes, v.Name, in.ID)
		gauge(c.reportedFree, float64(in.Estimate.Free), v.Name, in.ID)
		gauge(c.freeEstimate, float64(in.Estimate.Weight), v.Name, in.ID)
		gauge(c.entries, float64(in.Entries), v.Name, in.ID)
		gauge(c.draining, boolFloat(in.Draining), v.Name, in.ID)
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

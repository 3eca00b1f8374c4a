// Package metrics exports stitch's state to Prometheus: NS instances,
// their instances, LCM operation occurrences and session slots. Values are
// read from the orchestrator at scrape time (a Collector), so there is no
// second copy of the state to keep in step, and nothing package-level: each
// daemon has its own registry.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stitchnfv/stitch/nfvo"
)

// Source is what the collector reads; *nfvo.Orchestrator is one.
type Source interface {
	ListNS(ctx context.Context) ([]nfvo.NsInstance, error)
	GetNS(ctx context.Context, id string) (nfvo.NsInstance, error)
	ListOps(ctx context.Context, nsID string) ([]nfvo.LcmOpOcc, error)
	SlotReports(ctx context.Context, nsID string) ([]nfvo.SlotReport, error)
	Routers(ctx context.Context, nsID string) ([]nfvo.RouterView, error)
}

// scrapeTimeout bounds one scrape's reads of the store.
const scrapeTimeout = 5 * time.Second

var (
	nsDesc = prometheus.NewDesc("stitch_ns_instances",
		"NS instances by state and status.", []string{"state", "status"}, nil)
	vnfcDesc = prometheus.NewDesc("stitch_vnfc_instances",
		"VNF component instances by NS instance, constituent, site and state.",
		[]string{"ns_instance", "vnf_profile", "site", "state"}, nil)
	opsDesc = prometheus.NewDesc("stitch_lcm_operations",
		"LCM operation occurrences by type, state and whether stitch started them itself.",
		[]string{"operation", "state", "automatic"}, nil)
	opSecondsDesc = prometheus.NewDesc("stitch_lcm_operation_duration_seconds_sum",
		"Total wall time of the ended LCM operations, by type.", []string{"operation"}, nil)
	slotsDesc = prometheus.NewDesc("stitch_session_slots",
		"Session slots of an instance as it last reported them: max, available or in_use.",
		[]string{"ns_instance", "vnf_profile", "vnfc", "kind"}, nil)
	slotAgeDesc = prometheus.NewDesc("stitch_session_slots_report_age_seconds",
		"How old an instance's last slot report is.", []string{"ns_instance", "vnf_profile", "vnfc"}, nil)
	routerSessionsDesc = prometheus.NewDesc("stitch_router_new_sessions_total",
		"New sessions a service router sent to an instance (instance \"overflow:<domain>\" for a remote route) since the router started.",
		[]string{"ns_instance", "service", "instance"}, nil)
	routerRefusedDesc = prometheus.NewDesc("stitch_router_refused_total",
		"New sessions a service router refused (no instance with a free slot, no overflow route) since it started.",
		[]string{"ns_instance", "service"}, nil)
	routerFreeDesc = prometheus.NewDesc("stitch_router_free_slots",
		"Free slots of an instance as its service router counts them: in the last report (kind reported) and after headroom (kind weight).",
		[]string{"ns_instance", "service", "instance", "kind"}, nil)
	routerShareDesc = prometheus.NewDesc("stitch_router_table_share",
		"An instance's share of its service router's Maglev table: the share of new sessions it gets.",
		[]string{"ns_instance", "service", "instance"}, nil)
	routerUpDesc = prometheus.NewDesc("stitch_router_up",
		"1 when stitch could read a service router's view at this scrape.", []string{"ns_instance", "router"}, nil)
	scrapeErrDesc = prometheus.NewDesc("stitch_metrics_scrape_errors",
		"1 when this scrape could not read part of the state (see the daemon's log).", nil, nil)
)

// Collector reads stitch's state at every scrape.
type Collector struct {
	src Source
	log *slog.Logger
}

// NewCollector returns a collector over src; log may be nil.
func NewCollector(src Source, log *slog.Logger) *Collector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Collector{src: src, log: log}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{nsDesc, vnfcDesc, opsDesc, opSecondsDesc, slotsDesc, slotAgeDesc,
		routerSessionsDesc, routerRefusedDesc, routerFreeDesc, routerShareDesc, routerUpDesc, scrapeErrDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	failed := 0.0
	if err := c.collectNS(ctx, ch); err != nil {
		c.log.Warn("metrics: NS instances", "err", err)
		failed = 1
	}
	if err := c.collectOps(ctx, ch); err != nil {
		c.log.Warn("metrics: LCM operations", "err", err)
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, failed)
}

func (c *Collector) collectNS(ctx context.Context, ch chan<- prometheus.Metric) error {
	list, err := c.src.ListNS(ctx)
	if err != nil {
		return err
	}
	type nsKey struct{ state, status string }
	type vnfcKey struct{ ns, profile, site, state string }
	byState := map[nsKey]float64{}
	vnfcs := map[vnfcKey]float64{}
	for _, summary := range list {
		byState[nsKey{string(summary.State), summary.Status}]++
		ns, err := c.src.GetNS(ctx, summary.ID)
		if err != nil {
			return err
		}
		for _, v := range ns.Vnfcs {
			vnfcs[vnfcKey{ns.ID, v.Profile, v.Site, string(v.State)}]++
		}
		reports, err := c.src.SlotReports(ctx, ns.ID)
		if err != nil {
			return err
		}
		for _, r := range reports {
			if r.ReportedAt.IsZero() {
				continue // never read successfully: nothing to say
			}
			for kind, v := range map[string]int{"max": r.Max, "available": r.Available, "in_use": r.InUse} {
				ch <- prometheus.MustNewConstMetric(slotsDesc, prometheus.GaugeValue, float64(v), ns.ID, r.VnfProfileID, r.VnfcID, kind)
			}
			ch <- prometheus.MustNewConstMetric(slotAgeDesc, prometheus.GaugeValue, r.AgeMs/1000, ns.ID, r.VnfProfileID, r.VnfcID)
		}
	}
	for _, summary := range list {
		if err := c.collectRouters(ctx, ch, summary.ID); err != nil {
			return err
		}
	}
	for k, n := range byState {
		ch <- prometheus.MustNewConstMetric(nsDesc, prometheus.GaugeValue, n, k.state, k.status)
	}
	for k, n := range vnfcs {
		ch <- prometheus.MustNewConstMetric(vnfcDesc, prometheus.GaugeValue, n, k.ns, k.profile, k.site, k.state)
	}
	return nil
}

// collectRouters reads what an NS instance's service routers counted.
func (c *Collector) collectRouters(ctx context.Context, ch chan<- prometheus.Metric, nsID string) error {
	routers, err := c.src.Routers(ctx, nsID)
	if err != nil {
		return err
	}
	for _, r := range routers {
		up := 1.0
		if r.Error != "" {
			up = 0
		}
		ch <- prometheus.MustNewConstMetric(routerUpDesc, prometheus.GaugeValue, up, nsID, r.VnfcID)
		for _, s := range r.Services {
			ch <- prometheus.MustNewConstMetric(routerRefusedDesc, prometheus.CounterValue, float64(s.Counters.Refused), nsID, s.Name)
			for _, in := range s.Instances {
				ch <- prometheus.MustNewConstMetric(routerSessionsDesc, prometheus.CounterValue, float64(in.Counters.NewSessions), nsID, s.Name, in.ID)
				ch <- prometheus.MustNewConstMetric(routerFreeDesc, prometheus.GaugeValue, float64(in.Estimate.Free), nsID, s.Name, in.ID, "reported")
				ch <- prometheus.MustNewConstMetric(routerFreeDesc, prometheus.GaugeValue, float64(in.Estimate.Weight), nsID, s.Name, in.ID, "weight")
				ch <- prometheus.MustNewConstMetric(routerShareDesc, prometheus.GaugeValue, in.Share/100, nsID, s.Name, in.ID)
			}
			if o := s.Overflow; o != nil {
				ch <- prometheus.MustNewConstMetric(routerSessionsDesc, prometheus.CounterValue, float64(o.Counters.NewSessions), nsID, s.Name, "overflow:"+strings.TrimPrefix(o.ID, "domain:"))
			}
		}
	}
	return nil
}

func (c *Collector) collectOps(ctx context.Context, ch chan<- prometheus.Metric) error {
	ops, err := c.src.ListOps(ctx, "")
	if err != nil {
		return err
	}
	type opKey struct {
		typ, state string
		auto       bool
	}
	counts := map[opKey]float64{}
	seconds := map[string]float64{}
	for _, op := range ops {
		counts[opKey{string(op.LcmOperationType), string(op.OperationState), op.IsAutomaticInvocation}]++
		if op.Stats != nil {
			seconds[string(op.LcmOperationType)] += op.Stats.DurationMs / 1000
		}
	}
	for k, n := range counts {
		auto := "false"
		if k.auto {
			auto = "true"
		}
		ch <- prometheus.MustNewConstMetric(opsDesc, prometheus.GaugeValue, n, k.typ, k.state, auto)
	}
	for typ, s := range seconds {
		ch <- prometheus.MustNewConstMetric(opSecondsDesc, prometheus.CounterValue, s, typ)
	}
	return nil
}

// Handler serves the collector and the Go runtime's and process's metrics
// in the Prometheus text format, from a registry of its own.
func Handler(src Source, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(src, log), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)})
}

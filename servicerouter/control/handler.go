package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stitchnfv/stitch/servicerouter"
	"github.com/stitchnfv/stitch/servicerouter/slots"
)

// MaxBodyBytes bounds a request body: room for every instance the data
// plane holds (xdp.MaxBackends) with its report, several times over.
const MaxBodyBytes = 4 << 20

// Option tunes NewHandler.
type Option func(*handler)

// TunnelSources tells the handler the data plane's tunnel source addresses
// (xdp.Options.RouterIPv4/RouterIPv6; invalid for none), so that a PUT
// naming an instance of a family the data plane cannot encapsulate in is
// rejected with 400 before anything changes rather than failing half way.
func TunnelSources(v4, v6 netip.Addr) Option {
	return func(h *handler) {
		h.fam = families{4: v4.IsValid(), 6: v6.IsValid()}
	}
}

// Clock sets where the handler reads the time it evaluates the slot
// estimates at (GET /v1/services, /metrics); time.Now by default.
func Clock(now func() time.Time) Option {
	return func(h *handler) { h.now = now }
}

type handler struct {
	r   *servicerouter.Router
	log *slog.Logger
	fam families
	now func() time.Time
	mux *http.ServeMux
	// mu serialises PUTs: each reads the router's services and then
	// reconciles them, which must not interleave with another.
	mu sync.Mutex
}

// NewHandler serves the control API of r (see the package documentation).
// log may be nil.
func NewHandler(r *servicerouter.Router, log *slog.Logger, opts ...Option) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{r: r, log: log, now: time.Now, mux: http.NewServeMux()}
	for _, o := range opts {
		o(h)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(r, log, h.now),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	h.route("/v1/services", map[string]http.HandlerFunc{http.MethodGet: h.getServices, http.MethodPut: h.putServices})
	h.route("/v1/reports", map[string]http.HandlerFunc{http.MethodPost: h.postReports})
	h.route("/healthz", map[string]http.HandlerFunc{http.MethodGet: h.healthz})
	h.route("/metrics", map[string]http.HandlerFunc{http.MethodGet: metrics.ServeHTTP})
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no route %s", r.URL.Path))
	})
	return h.mux
}

// route registers path with a handler per method; other methods get a
// JSON 405 (the ServeMux's own is plain text).
func (h *handler) route(path string, methods map[string]http.HandlerFunc) {
	allow := strings.Join(slices.Sorted(maps.Keys(methods)), ", ")
	h.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		if f, ok := methods[r.Method]; ok {
			f(w, r)
			return
		}
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: method not allowed (allowed: %s)", r.Method, path, allow))
	})
}

func (h *handler) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (h *handler) getServices(w http.ResponseWriter, r *http.Request) {
	views, err := h.r.View(r.Context(), h.now())
	if err != nil {
		h.log.Error("reading the router's view failed", "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := viewsBody{Services: make([]ServiceView, 0, len(views))}
	for _, v := range views {
		out.Services = append(out.Services, serviceView(v))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) putServices(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Services *[]Service `json:"services"`
	}
	if status, err := decode(w, r, &body); err != nil {
		writeError(w, status, err.Error())
		return
	}
	if body.Services == nil {
		writeError(w, http.StatusBadRequest, `"services" is required (an empty list deletes every service)`)
		return
	}
	d, err := convert(*body.Services, h.fam)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid services: "+err.Error())
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.apply(r.Context(), d); err != nil {
		h.log.Error("applying services failed", "err", err)
		writeError(w, http.StatusInternalServerError, "partially applied, retry the PUT: "+err.Error())
		return
	}
	h.getServices(w, r)
}

// apply reconciles the router towards d: services not wanted (or whose
// VIP changed, which the router cannot update in place) are deleted first,
// so that their VIPs and backend indices are free for the rest.
func (h *handler) apply(ctx context.Context, d desired) error {
	cur, err := h.r.View(ctx, time.Now())
	if err != nil {
		return err
	}
	want := make(map[string]servicerouter.Service, len(d.services))
	for _, s := range d.services {
		want[s.Name] = s
	}
	for _, v := range cur {
		if s, ok := want[v.Name]; ok && s.VIP == v.VIP {
			continue
		}
		if err := h.r.DeleteService(ctx, v.Name); err != nil {
			return fmt.Errorf("delete service %s: %w", v.Name, err)
		}
		h.log.Info("service deleted", "service", v.Name)
	}
	for i, s := range d.services {
		if err := h.r.SetService(ctx, s); err != nil {
			return fmt.Errorf("set service %s: %w", s.Name, err)
		}
		for id, on := range d.draining[i] {
			if err := h.r.Drain(s.Name, id, on); err != nil {
				return fmt.Errorf("drain %s/%s: %w", s.Name, id, err)
			}
		}
	}
	h.log.Info("services applied", "services", len(d.services))
	return nil
}

func (h *handler) postReports(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Reports *[]Report `json:"reports"`
	}
	if status, err := decode(w, r, &body); err != nil {
		writeError(w, status, err.Error())
		return
	}
	if body.Reports == nil {
		writeError(w, http.StatusBadRequest, `"reports" is required`)
		return
	}
	res := ReportResult{Rejected: []Rejection{}}
	for _, rep := range *body.Reports {
		if err := h.observe(rep); err != nil {
			res.Rejected = append(res.Rejected, Rejection{Service: rep.Service, Instance: rep.Instance, Error: err.Error()})
			continue
		}
		res.Accepted++
	}
	if len(res.Rejected) > 0 {
		h.log.Debug("slot reports rejected", "accepted", res.Accepted, "rejected", res.Rejected)
	}
	if res.Accepted > 0 {
		// At once rather than at the next periodic rebuild: a first
		// report is what lets a new instance take sessions.
		if err := h.r.Rebuild(r.Context(), h.now()); err != nil {
			h.log.Warn("rebuild after slot reports", "err", err)
		}
	}
	writeJSON(w, http.StatusOK, res)
}

func (h *handler) observe(rep Report) error {
	if rep.MeasuredAt.IsZero() {
		return errors.New("measuredAt is required")
	}
	return h.r.Observe(rep.Service, rep.Instance, slots.Report{Max: rep.Max, Available: rep.Available, MeasuredAt: rep.MeasuredAt})
}

// decode reads exactly one JSON value into v, refusing unknown fields,
// trailing data and bodies over MaxBodyBytes; the status goes with the
// error.
func decode(w http.ResponseWriter, r *http.Request, v any) (int, error) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		switch terr := dec.Decode(&json.RawMessage{}); {
		case terr == io.EOF:
		case terr == nil:
			err = errors.New("trailing data after the JSON object")
		default:
			err = fmt.Errorf("trailing data after the JSON object: %w", terr)
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return http.StatusOK, nil
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, fmt.Errorf("body larger than %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return http.StatusBadRequest, errors.New("empty body: want a JSON object")
	}
	return http.StatusBadRequest, fmt.Errorf("invalid JSON body: %w", err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

package api

import (
	"log/slog"
	"net/http"
)

// Collection paths of the API. Item paths append "/{<name>Id}" with the
// SOL005 parameter names, which the OpenAPI document uses verbatim.
const (
	pathVnfPackages   = "/vnfpkgm/v1/vnf_packages"
	pathNsDescriptors = "/nsd/v1/ns_descriptors"
	pathNsInstances   = "/nslcm/v1/ns_instances"
	pathNsLcmOpOccs   = "/nslcm/v1/ns_lcm_op_occs"
	pathSubscriptions = "/nslcm/v1/subscriptions"
)

// handlerFunc is an API handler: it writes the response on success and
// returns the error otherwise, so that turning errors into problem details
// happens in exactly one place.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one registered endpoint. The table is data so that a test can
// compare it with the OpenAPI document.
type route struct {
	method string
	path   string // a ServeMux path pattern
	handle handlerFunc
}

type server struct {
	svc Service
	log *slog.Logger
	// openAPIJSON is the OpenAPI document converted once, at construction.
	openAPIJSON    []byte
	openAPIJSONErr error
}

// NewHandler returns the northbound REST API over svc. Each request is
// logged on logger (nil discards the logs).
func NewHandler(svc Service, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &server{svc: svc, log: logger}
	s.openAPIJSON, s.openAPIJSONErr = openAPIToJSON()
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.method+" "+rt.path, s.adapt(rt.handle))
	}
	return s.logRequests(s.recoverPanics(unmatchedAsProblems(mux)))
}

// routes lists every endpoint, resource by resource.
func (s *server) routes() []route {
	var rs []route
	rs = append(rs, s.vnfPackageRoutes()...)
	rs = append(rs, s.nsDescriptorRoutes()...)
	rs = append(rs, s.nsInstanceRoutes()...)
	rs = append(rs, s.opOccRoutes()...)
	rs = append(rs, s.subscriptionRoutes()...)
	rs = append(rs, s.interDomainRoutes()...)
	rs = append(rs, s.metaRoutes()...)
	return rs
}

// adapt turns a handlerFunc into an http.Handler that answers errors with
// problem details.
func (s *server) adapt(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// metaRoutes are the endpoints about the API itself.
func (s *server) metaRoutes() []route {
	return []route{
		{http.MethodGet, "/healthz", s.healthz},
		{http.MethodGet, "/openapi.yaml", s.serveOpenAPIYAML},
		{http.MethodGet, "/openapi.json", s.serveOpenAPIJSON},
	}
}

// Health is the body of GET /healthz.
type Health struct {
	Status string `json:"status"`
}

// healthz says the API process is serving; it deliberately does not call
// the orchestrator, so a slow store does not get the process restarted.
func (s *server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeObject(w, r, http.StatusOK, Health{Status: "ok"})
}

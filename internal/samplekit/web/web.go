// Package web is the sample web front end: GET / asks a back end for a
// visit and shows which instances served it.
package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/stitchnfv/stitch/internal/samplekit"
)

// maxBackendBody bounds what is read from a back end's answer.
const maxBackendBody = 1 << 20

// Options configure the front end.
type Options struct {
	// BackendProfile is the vnf-profile in the bindings' deps whose
	// instances serve /api/visit. Empty means the only profile there, so a
	// VNFD need not know the profile ids an NSD gives.
	BackendProfile string
}

// Page is the JSON answer of GET /.
type Page struct {
	ServedBy string          `json:"served_by"`
	Trace    []string        `json:"trace"`
	Backend  json.RawMessage `json:"backend"`
}

// Web is the front end's handler.
type Web struct {
	rt     *samplekit.Runtime
	caller *samplekit.Caller
	mux    *http.ServeMux
}

// New returns the front end; Close it at shutdown.
func New(rt *samplekit.Runtime, opts Options) *Web {
	targets := func() []string {
		p := opts.BackendProfile
		if p == "" {
			if ps := rt.Bindings.DepProfiles(); len(ps) == 1 {
				p = ps[0]
			}
		}
		return rt.Bindings.Deps(p)
	}
	// A back end out of slots answers 503; another one may have room.
	full := func(code int) bool { return code == http.StatusServiceUnavailable }
	w := &Web{rt: rt, caller: samplekit.NewCaller(rt, targets, full), mux: http.NewServeMux()}
	w.mux.HandleFunc("GET /{$}", w.index)
	w.mux.HandleFunc("GET /admin", w.admin)
	return w
}

func (w *Web) ServeHTTP(rw http.ResponseWriter, r *http.Request) { w.mux.ServeHTTP(rw, r) }

// Close drops idle connections to the back ends.
func (w *Web) Close() { w.caller.Close() }

func (w *Web) index(rw http.ResponseWriter, r *http.Request) {
	target := "/api/visit"
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	resp, addr, err := w.caller.Call(r.Context(), http.MethodGet, target, r.Header.Get(samplekit.TraceHeader), nil)
	if err != nil {
		w.fail(rw, r, "back end", err)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBackendBody))
	if err != nil {
		w.fail(rw, r, "back end "+addr, err)
		return
	}
	w.rt.Stats.Forwarded.Add(1)
	trace := resp.Header.Get(samplekit.TraceHeader)
	rw.Header().Set(samplekit.TraceHeader, trace)
	if resp.StatusCode != http.StatusOK {
		// The back end's problem (no free slot: 503, Retry-After) is the
		// client's answer too.
		for _, h := range []string{"Content-Type", "Retry-After"} {
			if v := resp.Header.Get(h); v != "" {
				rw.Header().Set(h, v)
			}
		}
		rw.WriteHeader(resp.StatusCode)
		_, _ = rw.Write(body)
		return
	}
	if !json.Valid(body) {
		w.fail(rw, r, "back end "+addr, errors.New("answer is not JSON"))
		return
	}
	samplekit.WriteJSON(rw, http.StatusOK, Page{
		ServedBy: w.rt.Config.InstanceID,
		Trace:    samplekit.SplitTrace(trace),
		Backend:  body,
	})
}

// admin exists so that a firewall rule on /admin can be seen working:
// reaching it through the chain means the rule is missing.
func (w *Web) admin(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set(samplekit.TraceHeader, samplekit.AppendHop(r.Header.Get(samplekit.TraceHeader), w.rt.Hop()))
	samplekit.WriteJSON(rw, http.StatusOK, map[string]string{
		"served_by": w.rt.Config.InstanceID,
		"area":      "admin",
	})
}

func (w *Web) fail(rw http.ResponseWriter, r *http.Request, what string, err error) {
	if r.Context().Err() != nil {
		return // the client left
	}
	w.rt.Stats.Errors.Add(1)
	w.rt.Logger.Warn("visit failed", "err", err)
	detail := fmt.Sprintf("%s failed: %v", what, err)
	if errors.Is(err, samplekit.ErrNoInstance) {
		detail = "no back end instance is available"
	}
	rw.Header().Set(samplekit.TraceHeader, samplekit.AppendHop(r.Header.Get(samplekit.TraceHeader), w.rt.Hop()))
	samplekit.WriteProblem(rw, http.StatusBadGateway, w.rt.Hop(), detail)
}

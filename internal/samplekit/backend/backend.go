// Package backend is the sample back end: every visit is a session that
// holds one of the instance's session slots while it lasts, and counts
// itself in the key-value database.
package backend

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/stitchnfv/stitch/internal/samplekit"
	"github.com/stitchnfv/stitch/sdk/slots"
)

// MaxHold caps ?hold= so a test or a demo cannot pin a slot for long.
const MaxHold = 30 * time.Second

// CounterKey is the database key visits are counted under.
const CounterKey = "visits"

// Options configure the back end.
type Options struct {
	// DBProfile is the vnf-profile in the bindings' deps whose instances
	// are the database. Empty means the only profile there.
	DBProfile string
	// Slots is the session budget; required.
	Slots *slots.Budget
}

// Visit is the JSON answer of GET /api/visit.
type Visit struct {
	Instance string         `json:"instance"`
	Visits   int64          `json:"visits"`
	Held     string         `json:"held"`
	Slots    slots.Snapshot `json:"slots"`
}

// Backend is the back end's handler.
type Backend struct {
	rt     *samplekit.Runtime
	slots  *slots.Budget
	caller *samplekit.Caller
	mux    *http.ServeMux
}

// New returns the back end; Close it at shutdown.
func New(rt *samplekit.Runtime, opts Options) *Backend {
	targets := func() []string {
		p := opts.DBProfile
		if p == "" {
			if ps := rt.Bindings.DepProfiles(); len(ps) == 1 {
				p = ps[0]
			}
		}
		return rt.Bindings.Deps(p)
	}
	b := &Backend{rt: rt, slots: opts.Slots, caller: samplekit.NewCaller(rt, targets, nil), mux: http.NewServeMux()}
	b.mux.HandleFunc("GET /api/visit", b.visit)
	return b
}

func (b *Backend) ServeHTTP(w http.ResponseWriter, r *http.Request) { b.mux.ServeHTTP(w, r) }

// Close drops idle connections to the database.
func (b *Backend) Close() { b.caller.Close() }

func (b *Backend) visit(w http.ResponseWriter, r *http.Request) {
	inTrace := r.Header.Get(samplekit.TraceHeader)
	ownTrace := samplekit.AppendHop(inTrace, b.rt.Hop())
	hold, err := parseHold(r.URL.Query().Get("hold"))
	if err != nil {
		w.Header().Set(samplekit.TraceHeader, ownTrace)
		samplekit.WriteProblem(w, http.StatusBadRequest, b.rt.Hop(), err.Error())
		return
	}
	release, ok := b.slots.Acquire()
	if !ok {
		b.rt.Stats.Rejected.Add(1)
		w.Header().Set(samplekit.TraceHeader, ownTrace)
		w.Header().Set("Retry-After", "1")
		samplekit.WriteProblem(w, http.StatusServiceUnavailable, b.rt.Hop(),
			fmt.Sprintf("no free session slot (%d in use)", b.slots.InUse()))
		return
	}
	defer release()

	visits, trace, err := b.count(r)
	if err != nil {
		if r.Context().Err() != nil {
			return
		}
		b.rt.Stats.Errors.Add(1)
		b.rt.Logger.Warn("visit not counted", "err", err)
		w.Header().Set(samplekit.TraceHeader, ownTrace)
		samplekit.WriteProblem(w, http.StatusBadGateway, b.rt.Hop(), "visit counter: "+err.Error())
		return
	}
	b.rt.Stats.Forwarded.Add(1)

	if hold > 0 {
		t := time.NewTimer(hold)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return // the session ended early: the client left
		}
	}
	w.Header().Set(samplekit.TraceHeader, trace)
	samplekit.WriteJSON(w, http.StatusOK, Visit{
		Instance: b.rt.Config.InstanceID,
		Visits:   visits,
		Held:     hold.String(),
		Slots:    b.slots.Snapshot(),
	})
}

// count increments the visit counter and returns it with the trace the
// database answered.
func (b *Backend) count(r *http.Request) (int64, string, error) {
	resp, addr, err := b.caller.Call(r.Context(), http.MethodPost, "/kv/"+CounterKey+"/incr", r.Header.Get(samplekit.TraceHeader), nil)
	if err != nil {
		if errors.Is(err, samplekit.ErrNoInstance) {
			return 0, "", errors.New("no database instance is available")
		}
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, "", fmt.Errorf("database %s answered %s", addr, resp.Status)
	}
	var v struct {
		Value int64 `json:"value"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&v); err != nil {
		return 0, "", fmt.Errorf("database %s: %w", addr, err)
	}
	return v.Value, resp.Header.Get(samplekit.TraceHeader), nil
}

func parseHold(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("hold=%q: want a non-negative duration such as 500ms", s)
	}
	return min(d, MaxHold), nil
}

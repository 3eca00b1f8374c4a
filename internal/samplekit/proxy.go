package samplekit

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"sync/atomic"
)

// ProxyOptions configure a Proxy.
type ProxyOptions struct {
	// Targets lists the instances to forward to; default the bindings'
	// next set.
	Targets func() []string
	// Policy chooses among targets; default round robin.
	Policy Policy
	// TrustForwarded keeps the inbound X-Forwarded-For and appends the
	// peer. An edge hop leaves it false so a client cannot forge the
	// source the rest of the chain sees.
	TrustForwarded bool
	// Attempts is how many instances one request may try when dialing
	// fails; default 2 (retry once on another instance).
	Attempts int
}

// Proxy forwards HTTP requests to the next hop with tracing and passive
// health, retrying on another instance when a dial fails.
type Proxy struct {
	rt        *Runtime
	transport *http.Transport
	rp        *httputil.ReverseProxy
}

// NewProxy returns a Proxy; Close it to drop idle upstream connections.
func NewProxy(rt *Runtime, opts ProxyOptions) *Proxy {
	if opts.Targets == nil {
		opts.Targets = rt.Bindings.Next
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 2
	}
	p := &Proxy{rt: rt, transport: NewTransport()}
	pt := &pickTransport{
		rt:       rt,
		targets:  opts.Targets,
		picker:   NewPicker(opts.Policy, DefaultBadFor, nil),
		base:     p.transport,
		attempts: opts.Attempts,
	}
	hop := rt.Hop()
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// The instance is chosen per attempt by pickTransport; the Host
			// header stays the client's.
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = "next-hop.invalid"
			if opts.TrustForwarded {
				pr.Out.Header["X-Forwarded-For"] = pr.In.Header["X-Forwarded-For"]
			}
			pr.SetXForwarded()
			pr.Out.Header.Set(TraceHeader, AppendHop(pr.In.Header.Get(TraceHeader), hop))
		},
		Transport: pt,
		ModifyResponse: func(resp *http.Response) error {
			rt.Stats.Forwarded.Add(1)
			// A next hop that does not trace itself still gets the path up
			// to here back to the client.
			if resp.Header.Get(TraceHeader) == "" {
				resp.Header.Set(TraceHeader, resp.Request.Header.Get(TraceHeader))
			}
			return nil
		},
		ErrorHandler: p.fail,
		ErrorLog:     slog.NewLogLogger(rt.Logger.Handler(), slog.LevelWarn),
	}
	return p
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.rp.ServeHTTP(w, r) }

// Close drops idle upstream connections.
func (p *Proxy) Close() { p.transport.CloseIdleConnections() }

func (p *Proxy) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		// The client left; nobody reads this answer.
		p.rt.Logger.Debug("client gone before the next hop answered", "path", r.URL.Path, "err", err)
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	p.rt.Stats.Errors.Add(1)
	detail := fmt.Sprintf("next hop failed: %v", err)
	if errors.Is(err, ErrNoInstance) {
		detail = "no instance of the next function is available"
	}
	p.rt.Logger.Warn("forward failed", "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set(TraceHeader, AppendHop(r.Header.Get(TraceHeader), p.rt.Hop()))
	WriteProblem(w, http.StatusBadGateway, p.rt.Hop(), detail)
}

// pickTransport sends each request to an instance the picker chooses and
// moves to another one when the dial fails.
type pickTransport struct {
	rt       *Runtime
	targets  func() []string
	picker   *Picker
	base     http.RoundTripper
	attempts int
}

func (t *pickTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	candidates := t.targets()
	var (
		tried   []string
		lastErr error
		read    atomic.Bool
	)
	for range t.attempts {
		addr, done, ok := t.picker.Pick(candidates, tried...)
		if !ok {
			break
		}
		tried = append(tried, addr)
		out := req.Clone(req.Context())
		out.URL.Host = addr
		if req.Body != nil && req.Body != http.NoBody {
			out.Body = attemptBody{rc: req.Body, read: &read}
		}
		resp, err := t.base.RoundTrip(out)
		if err == nil {
			resp.Body = &doneBody{ReadCloser: resp.Body, done: done}
			return resp, nil
		}
		done()
		lastErr = fmt.Errorf("%s: %w", addr, err)
		if !IsDialError(err) {
			break
		}
		t.picker.MarkFailed(addr)
		t.rt.Logger.Warn("next hop unreachable, avoiding it", "addr", addr, "for", DefaultBadFor.String(), "err", err)
		if read.Load() {
			break
		}
	}
	if req.Body != nil {
		_ = req.Body.Close()
	}
	if lastErr == nil {
		return nil, ErrNoInstance
	}
	return nil, lastErr
}

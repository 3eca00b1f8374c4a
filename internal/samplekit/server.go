package samplekit

import (
	"context"
	"errors"
	"fmt"
	"github.com/stitchnfv/stitch/sdk/slots"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultShutdownTimeout is how long in-flight requests get to finish
// after SIGTERM before connections are cut.
const DefaultShutdownTimeout = 10 * time.Second

// Server runs a sample program's HTTP service: its Handler plus
// GET /healthz, GET /stats and, with Slots, GET and PUT /slots.
type Server struct {
	Runtime *Runtime
	Handler http.Handler
	// Slots, when set, is served at /slots and included in /stats.
	Slots *slots.Budget
	// ShutdownTimeout defaults to DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// OnShutdown runs after the last request finished (close idle
	// upstream connections, flush files).
	OnShutdown func()

	ready atomic.Bool
}

// ListenAndServe listens on addr only, then serves as Serve does.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln and follows the bindings file until ctx ends, then
// shuts down gracefully: /healthz turns 503, the listener closes, and
// in-flight requests get ShutdownTimeout to finish. It returns nil after a
// clean shutdown and an error when requests had to be cut.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	rt := s.Runtime
	timeout := s.ShutdownTimeout
	if timeout <= 0 {
		timeout = DefaultShutdownTimeout
	}
	srv := &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(rt.Logger.Handler(), slog.LevelWarn),
	}

	watchCtx, stopWatch := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { rt.Bindings.Run(watchCtx, DefaultBindingsPoll) })
	defer func() {
		stopWatch()
		wg.Wait()
	}()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	stopTelemetry := s.startTelemetry(ctx)
	defer stopTelemetry()
	s.ready.Store(true)
	rt.Logger.Info("serving", "addr", ln.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.ready.Store(false)
	stopTelemetry()
	rt.Logger.Info("shutting down", "timeout", timeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close()
		err = fmt.Errorf("graceful shutdown: in-flight requests cut after %s: %w", timeout, err)
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = fmt.Errorf("serve: %w", serr)
	}
	if s.OnShutdown != nil {
		s.OnShutdown()
	}
	if err == nil {
		rt.Logger.Info("stopped")
	}
	return err
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /stats", s.stats)
	if s.Slots != nil {
		mux.Handle("/slots", slots.Handler(s.Slots, s.Runtime.Logger))
	}
	if s.Handler != nil {
		mux.Handle("/", s.count(s.Handler))
	}
	return mux
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !s.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "shutting down\n")
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}

func (s *Server) stats(w http.ResponseWriter, _ *http.Request) {
	snap := s.Runtime.Stats.Snapshot()
	snap.Role, snap.Instance = s.Runtime.Role, s.Runtime.Config.InstanceID
	if s.Slots != nil {
		sl := s.Slots.Snapshot()
		snap.Slots = &sl
	}
	WriteJSON(w, http.StatusOK, snap)
}

// count counts the request and logs it at debug level.
func (s *Server) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Runtime.Stats.Requests.Add(1)
		if !s.Runtime.Logger.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			s.Runtime.Logger.Debug("request", "method", r.Method, "path", r.URL.Path, "peer", r.RemoteAddr,
				"status", sw.status, "duration", time.Since(start).String())
		}()
		next.ServeHTTP(sw, r)
	})
}

// statusWriter records the status code; Unwrap keeps
// http.ResponseController (flush, hijack) working through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

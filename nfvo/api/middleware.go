package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/stitchnfv/stitch/nfvo"
)

// statusRecorder remembers the status code and body size for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs one line per request. Health checks are logged at debug
// level: probes every few seconds would drown the operator's log.
func (s *server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		level := slog.LevelInfo
		switch {
		case rec.status >= 500:
			level = slog.LevelWarn
		case r.URL.Path == "/healthz":
			level = slog.LevelDebug
		}
		s.log.LogAttrs(r.Context(), level, "http request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("pattern", r.Pattern),
			slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start)),
			slog.Int("bytes", rec.bytes),
			slog.String("remote", r.RemoteAddr),
		)
	})
}

// recoverPanics answers a panicking handler with a 500 problem instead of
// a dropped connection, and logs the stack.
func (s *server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { // net/http's own sentinel for aborting a response
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic in handler", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			s.writeError(w, r, errors.New("panic in handler"))
		}()
		next.ServeHTTP(w, r)
	})
}

// unmatchedAsProblems keeps ServeMux's routing decisions (404, or 405 with
// an Allow header) but answers them with problem details like every other
// error of the API, instead of ServeMux's text/plain.
func unmatchedAsProblems(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			mux.ServeHTTP(&unmatchedWriter{ResponseWriter: w, r: r}, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// unmatchedWriter replaces a 404 or 405 body written by ServeMux.
type unmatchedWriter struct {
	http.ResponseWriter
	r        *http.Request
	replaced bool
}

func (w *unmatchedWriter) WriteHeader(code int) {
	if code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.replaced = true
	p := nfvo.Problem{Type: ProblemTypeNotFound, Title: http.StatusText(code), Status: code,
		Detail: fmt.Sprintf("no resource at %s", w.r.URL.Path), Instance: w.r.URL.Path}
	if code == http.StatusMethodNotAllowed {
		p.Type = "" // about:blank: the status code says it all
		p.Detail = fmt.Sprintf("%s is not allowed on %s (allowed: %s)", w.r.Method, w.r.URL.Path, w.Header().Get("Allow"))
	}
	w.Header().Del("X-Content-Type-Options")
	writeProblem(w.ResponseWriter, p) // not w: that would come back here
}

func (w *unmatchedWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil // ServeMux's text body; the problem is already written
	}
	return w.ResponseWriter.Write(b)
}

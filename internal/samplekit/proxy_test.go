package samplekit

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// deadAddr is a loopback address nothing listens on: dialing it is
// refused at once.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// echo is a next hop that answers what it received.
func echo(t *testing.T, name string, trace bool) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if trace {
			w.Header().Set(TraceHeader, AppendHop(r.Header.Get(TraceHeader), "echo:"+name))
		}
		_ = json.NewEncoder(w).Encode(map[string]string{
			"name": name, "trace": r.Header.Get(TraceHeader), "xff": r.Header.Get("X-Forwarded-For"),
			"body": string(body), "host": r.Host, "path": r.URL.RequestURI(),
		})
	}))
	t.Cleanup(s.Close)
	return s
}

func hostOf(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }

func doProxy(t *testing.T, p http.Handler, req *http.Request) (*httptest.ResponseRecorder, map[string]string) {
	t.Helper()
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, req)
	var got map[string]string
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("body %q: %v", rec.Body, err)
		}
	}
	return rec, got
}

func TestProxyTraceAndForwardedFor(t *testing.T) {
	next := echo(t, "n1", true)
	for _, trust := range []bool{false, true} {
		rt := testRuntime(t, "fw", "fw-0")
		p := NewProxy(rt, ProxyOptions{Targets: func() []string { return []string{hostOf(next)} }, TrustForwarded: trust})
		req := httptest.NewRequest(http.MethodGet, "http://svc.example/a/b?q=1", nil)
		req.RemoteAddr = "192.0.2.7:5555"
		req.Header.Set("X-Forwarded-For", "10.6.6.6")
		req.Header.Set(TraceHeader, "client:c")
		rec, got := doProxy(t, p, req)
		if rec.Code != 200 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if got["trace"] != "client:c,fw:fw-0" || rec.Header().Get(TraceHeader) != "client:c,fw:fw-0,echo:n1" {
			t.Fatalf("sent trace %q, answered %q", got["trace"], rec.Header().Get(TraceHeader))
		}
		if got["path"] != "/a/b?q=1" || got["host"] != "svc.example" {
			t.Fatalf("path %q host %q", got["path"], got["host"])
		}
		want := "192.0.2.7"
		if trust {
			want = "10.6.6.6, 192.0.2.7"
		}
		if got["xff"] != want {
			t.Fatalf("trust=%v: X-Forwarded-For %q, want %q", trust, got["xff"], want)
		}
		if rt.Stats.Forwarded.Load() != 1 {
			t.Fatalf("forwarded = %d", rt.Stats.Forwarded.Load())
		}
	}
}

func TestProxyTracesForUntracedHop(t *testing.T) {
	next := echo(t, "n1", false)
	p := NewProxy(testRuntime(t, "lb", "lb-0"), ProxyOptions{Targets: func() []string { return []string{hostOf(next)} }})
	rec, _ := doProxy(t, p, httptest.NewRequest(http.MethodGet, "/", nil))
	if got := rec.Header().Get(TraceHeader); got != "lb:lb-0" {
		t.Fatalf("trace = %q", got)
	}
}

func TestProxyRetriesOnDialError(t *testing.T) {
	live := echo(t, "live", true)
	dead := deadAddr(t)
	rt := testRuntime(t, "lb", "lb-0")
	p := NewProxy(rt, ProxyOptions{Targets: func() []string { return []string{dead, hostOf(live)} }})
	for i := range 4 {
		req := httptest.NewRequest(http.MethodPost, "/submit", strings.NewReader("payload"))
		rec, got := doProxy(t, p, req)
		if rec.Code != 200 || got["name"] != "live" || got["body"] != "payload" {
			t.Fatalf("request %d: %d %v", i, rec.Code, got)
		}
	}
	if rt.Stats.Errors.Load() != 0 || rt.Stats.Forwarded.Load() != 4 {
		t.Fatalf("stats = %+v", rt.Stats.Snapshot())
	}
}

func TestProxyNoInstance(t *testing.T) {
	for name, targets := range map[string][]string{"none": nil, "all dead": {deadAddr(t), deadAddr(t)}} {
		rt := testRuntime(t, "lb", "lb-0")
		p := NewProxy(rt, ProxyOptions{Targets: func() []string { return targets }})
		rec, _ := doProxy(t, p, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != http.StatusBadGateway || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%s: %d %s", name, rec.Code, rec.Header().Get("Content-Type"))
		}
		var prob Problem
		if err := json.Unmarshal(rec.Body.Bytes(), &prob); err != nil || prob.Status != 502 || prob.Hop != "lb:lb-0" {
			t.Fatalf("%s: problem %+v, %v", name, prob, err)
		}
		if rt.Stats.Errors.Load() != 1 {
			t.Fatalf("%s: errors = %d", name, rt.Stats.Errors.Load())
		}
	}
}

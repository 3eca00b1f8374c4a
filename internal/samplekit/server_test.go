package samplekit

import (
	"context"
	"github.com/stitchnfv/stitch/sdk/slots"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func testRuntime(t *testing.T, role, id string) *Runtime {
	t.Helper()
	rt, err := NewRuntime(role, []string{EnvInstanceID + "=" + id}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// serve starts srv on a loopback port and returns its address and a stop
// function returning Serve's result.
func serve(t *testing.T, srv *Server) (string, func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	stopped := false
	var result error
	stop := func() error {
		if !stopped {
			cancel()
			result, stopped = <-done, true
		}
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return ln.Addr().String(), stop
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestServerEndpoints(t *testing.T) {
	rt := testRuntime(t, "backend", "be-0")
	budget := slots.New(4)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "app") })
	addr, _ := serve(t, &Server{Runtime: rt, Handler: app, Slots: budget})

	if code, body, _ := get(t, "http://"+addr+"/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("healthz = %d %q", code, body)
	}
	for range 3 {
		if code, body, _ := get(t, "http://"+addr+"/anything"); code != 200 || body != "app" {
			t.Fatalf("app = %d %q", code, body)
		}
	}
	release, _ := budget.Acquire()
	defer release()
	code, body, _ := get(t, "http://"+addr+"/stats")
	if code != 200 || !strings.Contains(body, `"requests":3`) || !strings.Contains(body, `"role":"backend"`) ||
		!strings.Contains(body, `"instance":"be-0"`) || !strings.Contains(body, `"slots":{"max":4,"available":3,"in_use":1,"seq":1}`) {
		t.Fatalf("stats = %d %s", code, body)
	}
	if code, body, _ := get(t, "http://"+addr+"/slots"); code != 200 || strings.TrimSpace(body) != `{"max":4,"available":3,"in_use":1,"seq":1}` {
		t.Fatalf("slots = %d %s", code, body)
	}

	put := func(body string) int {
		req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/slots", strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := put(`{"max": 10}`); code != 200 || budget.Max() != 10 {
		t.Fatalf("PUT /slots = %d, max %d", code, budget.Max())
	}
	for _, bad := range []string{`{"max": -1}`, `{}`, `nope`} {
		if code := put(bad); code != 400 {
			t.Fatalf("PUT /slots %s = %d, want 400", bad, code)
		}
	}
}

func TestServerGracefulShutdown(t *testing.T) {
	rt := testRuntime(t, "web", "w-0")
	entered := make(chan struct{})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		time.Sleep(300 * time.Millisecond)
		_, _ = io.WriteString(w, "finished")
	})
	addr, stop := serve(t, &Server{Runtime: rt, Handler: app})

	type result struct {
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res <- result{string(b), err}
	}()
	<-entered
	if err := stop(); err != nil {
		t.Fatalf("Serve after graceful shutdown = %v, want nil", err)
	}
	r := <-res
	if r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request = %q, %v", r.body, r.err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

func TestServerShutdownTimeoutCuts(t *testing.T) {
	rt := testRuntime(t, "web", "w-0")
	entered := make(chan struct{})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-r.Context().Done() // never finishes by itself
	})
	addr, stop := serve(t, &Server{Runtime: rt, Handler: app, ShutdownTimeout: 100 * time.Millisecond})
	go func() {
		if resp, err := http.Get("http://" + addr + "/stuck"); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered
	if err := stop(); err == nil {
		t.Fatal("Serve returned nil though a request was cut")
	}
}

func TestServerHealthzDuringShutdown(t *testing.T) {
	s := &Server{Runtime: testRuntime(t, "web", "w-0")}
	rec := httptest.NewRecorder()
	s.healthz(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("healthz while not ready = %d", rec.Code)
	}
}

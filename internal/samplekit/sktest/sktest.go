// Package sktest helps tests start sample programs on loopback and drive
// them: free ports, bindings files, health waits, stopping with a
// deadline.
package sktest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/samplekit"
)

// FreeAddr returns a loopback address with a port that was free a moment
// ago. Another process may take it before the program listens; that race
// is the price of testing a program that listens on a flag's address.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("free port: %v", err)
	}
	return addr
}

// WriteBindings replaces path atomically (write, then rename), as the VNFM
// does.
func WriteBindings(t testing.TB, path string, set samplekit.BindingsSet) {
	t.Helper()
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".bindings*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		t.Fatal(err)
	}
}

// LogBuffer collects a program's logs and shows them when the test fails.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// NewLogBuffer returns a buffer dumped into the test log on failure.
func NewLogBuffer(t testing.TB, name string) *LogBuffer {
	l := &LogBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s logs:\n%s", name, l.String())
		}
	})
	return l
}

// Proc is a program run in-process.
type Proc struct {
	Addr string
	Logs *LogBuffer

	cancel context.CancelFunc
	done   chan error
}

// Start runs run with args and env in a goroutine; the program must
// listen on addr. It returns once /healthz answers 200. The program is
// stopped at cleanup if the test did not stop it.
func Start(t testing.TB, name string, run samplekit.RunFunc, addr string, args, env []string) *Proc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proc{Addr: addr, Logs: NewLogBuffer(t, name), cancel: cancel, done: make(chan error, 1)}
	go func() { p.done <- run(ctx, args, env, p.Logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			t.Errorf("%s did not stop", name)
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		select {
		case err := <-p.done:
			t.Fatalf("%s exited early: %v\n%s", name, err, p.Logs)
		default:
		}
		if Healthy(addr) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy at %s\n%s", name, addr, p.Logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop cancels the program's context (as SIGTERM does) and returns what
// run returned.
func (p *Proc) Stop(t testing.TB) error {
	t.Helper()
	p.cancel()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("program did not stop")
		return nil
	}
}

// Healthy reports whether GET /healthz at addr answers 200.
func Healthy(addr string) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// GetJSON fetches url into v and returns the response (body consumed).
func GetJSON(t testing.TB, url string, v any) *http.Response {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %s: decode: %v", url, resp.Status, err)
		}
	}
	return resp
}

// Stats reads GET /stats at addr.
func Stats(t testing.TB, addr string) samplekit.StatsSnapshot {
	t.Helper()
	var s samplekit.StatsSnapshot
	GetJSON(t, "http://"+addr+"/stats", &s)
	return s
}

// Env builds a KEY=VALUE environment.
func Env(kv ...string) []string {
	var env []string
	for i := 0; i+1 < len(kv); i += 2 {
		env = append(env, kv[i]+"="+kv[i+1])
	}
	return env
}

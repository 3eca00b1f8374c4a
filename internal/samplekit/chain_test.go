package samplekit_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/samplekit"
	"github.com/stitchnfv/stitch/internal/samplekit/backend"
	"github.com/stitchnfv/stitch/internal/samplekit/sktest"
	"github.com/stitchnfv/stitch/internal/testenv"
)

type page struct {
	ServedBy string        `json:"served_by"`
	Trace    []string      `json:"trace"`
	Backend  backend.Visit `json:"backend"`
}

type answer struct {
	status int
	header http.Header
	body   []byte
	page   page
}

// fetch is safe in any goroutine; visit is fetch for the test goroutine.
func fetch(client *http.Client, url string) (answer, error) {
	resp, err := client.Get(url)
	if err != nil {
		return answer{}, fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	if a.body, err = io.ReadAll(resp.Body); err != nil {
		return a, fmt.Errorf("GET %s: %w", url, err)
	}
	if a.status == http.StatusOK {
		if err := json.Unmarshal(a.body, &a.page); err != nil {
			return a, fmt.Errorf("GET %s: %s: %w", url, a.body, err)
		}
	}
	return a, nil
}

func visit(t *testing.T, client *http.Client, url string) answer {
	t.Helper()
	a, err := fetch(client, url)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestChain wires firewall → lb → 2 web → 3 backends → kvdb on loopback
// and drives it as a client would.
func TestChain(t *testing.T) {
	ch := sktest.StartChain(t, nil)
	fw, db, web0, backs := ch.Programs["fw"][0], ch.Programs["kvdb"][0], ch.Programs["web"][0], ch.Programs["backend"]
	client := &http.Client{Timeout: 5 * time.Second}
	entry := "http://" + ch.Entry()

	t.Run("trace and visit counter", func(t *testing.T) {
		seenBack := map[string]bool{}
		seenWeb := map[string]bool{}
		var last int64
		for i := range 6 {
			a := visit(t, client, entry+"/")
			if a.status != http.StatusOK {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			hops := samplekit.SplitTrace(a.header.Get(samplekit.TraceHeader))
			if !slices.Equal(hops, a.page.Trace) {
				t.Fatalf("header trace %v != body trace %v", hops, a.page.Trace)
			}
			if len(hops) != 5 || hops[0] != "fw:fw-0" || hops[1] != "lb:lb-0" ||
				!strings.HasPrefix(hops[2], "web:web-") || !strings.HasPrefix(hops[3], "backend:backend-") || hops[4] != "kvdb:db-0" {
				t.Fatalf("trace = %v", hops)
			}
			if hops[2] != "web:"+a.page.ServedBy || hops[3] != "backend:"+a.page.Backend.Instance {
				t.Fatalf("trace %v disagrees with served_by %q / backend %q", hops, a.page.ServedBy, a.page.Backend.Instance)
			}
			if i > 0 && a.page.Backend.Visits != last+1 {
				t.Fatalf("visits = %d after %d", a.page.Backend.Visits, last)
			}
			last = a.page.Backend.Visits
			seenWeb[a.page.ServedBy] = true
			seenBack[a.page.Backend.Instance] = true
		}
		if len(seenWeb) != 2 || len(seenBack) != 3 {
			t.Fatalf("6 visits reached webs %v and backends %v; want all", seenWeb, seenBack)
		}
		resp, err := client.Get("http://" + db.Addr + "/kv/visits")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != fmt.Sprint(last) {
			t.Fatalf("kvdb visits = %q, want %d", b, last)
		}
	})

	t.Run("denied path is dropped and counted", func(t *testing.T) {
		// A fresh connection per request: Go's client would otherwise
		// retry a GET whose reused connection closed without an answer.
		noReuse := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		before := fw.Runtime.Stats.Dropped.Load()
		for _, path := range []string{"/admin", "/admin/users", "/x/../admin"} {
			req, _ := http.NewRequest(http.MethodGet, entry+"/", nil)
			req.URL.Path = path // keep /x/../admin uncleaned on the wire
			resp, err := noReuse.Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("GET %s through the firewall answered %s; want the connection dropped", path, resp.Status)
			}
		}
		if got := sktest.Stats(t, fw.Addr).Dropped; got != before+3 {
			t.Fatalf("dropped = %d, want %d", got, before+3)
		}
		// The route exists: only the firewall keeps it out of reach.
		if a := visit(t, client, "http://"+web0.Addr+"/admin"); a.status != http.StatusOK {
			t.Fatalf("web /admin = %d", a.status)
		}
		if a := visit(t, client, entry+"/administrator"); a.status != http.StatusNotFound {
			t.Fatalf("/administrator = %d, want 404 from web (not dropped)", a.status)
		}
	})

	t.Run("denied source is dropped, X-Forwarded-For is not trusted", func(t *testing.T) {
		if ln, err := net.Listen("tcp", "127.0.0.2:0"); err != nil {
			testenv.Unavailable(t, "127.0.0.2 is not a loopback address here: "+err.Error())
		} else {
			ln.Close()
		}
		from := func(ip string) *http.Client {
			d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: time.Second}
			return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
		}
		before := fw.Runtime.Stats.Dropped.Load()
		req, _ := http.NewRequest(http.MethodGet, entry+"/", nil)
		req.Header.Set("X-Forwarded-For", "198.51.100.1") // a lie that must not help
		if resp, err := from("127.0.0.2").Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("request from denied 127.0.0.2 answered %s", resp.Status)
		}
		req, _ = http.NewRequest(http.MethodGet, entry+"/", nil)
		req.Header.Set("X-Forwarded-For", "127.0.0.2") // a lie that must not hurt
		resp, err := from("127.0.0.1").Do(req)
		if err != nil {
			t.Fatalf("request from allowed 127.0.0.1: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request from allowed 127.0.0.1 = %s", resp.Status)
		}
		if got := fw.Runtime.Stats.Dropped.Load(); got != before+1 {
			t.Fatalf("dropped = %d, want %d", got, before+1)
		}
	})

	t.Run("slots exhaust to 503 and recover", func(t *testing.T) {
		// ServiceModifySessions: one slot per back end.
		for _, b := range backs {
			b.Slots.SetMax(1)
		}
		defer func() {
			for _, b := range backs {
				b.Slots.SetMax(20)
			}
		}()
		var wg sync.WaitGroup
		held := make([]answer, len(backs))
		errs := make([]error, len(backs))
		for i := range backs {
			wg.Go(func() { held[i], errs[i] = fetch(client, entry+"/?hold=800ms") })
		}
		waitFor(t, 2*time.Second, "every back end holds its slot", func() bool {
			for _, b := range backs {
				if b.Slots.InUse() != 1 {
					return false
				}
			}
			return true
		})
		a := visit(t, client, entry+"/")
		if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") != "1" {
			t.Fatalf("with all slots held: %d Retry-After=%q %s", a.status, a.header.Get("Retry-After"), a.body)
		}
		var prob samplekit.Problem
		if err := json.Unmarshal(a.body, &prob); err != nil || prob.Status != 503 || !strings.HasPrefix(prob.Hop, "backend:") {
			t.Fatalf("problem = %s (%v)", a.body, err)
		}
		wg.Wait()
		for i, h := range held {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if h.status != http.StatusOK || h.page.Backend.Held != "800ms" || h.page.Backend.Slots.InUse != 1 {
				t.Fatalf("held session %d: %d %s", i, h.status, h.body)
			}
		}
		if a := visit(t, client, entry+"/"); a.status != http.StatusOK {
			t.Fatalf("after the sessions ended: %d %s", a.status, a.body)
		}
		var rejected uint64
		for _, b := range backs {
			rejected += sktest.Stats(t, b.Addr).Rejected
		}
		if rejected == 0 {
			t.Fatal("no back end counted a rejected session")
		}
	})

	t.Run("bindings change moves traffic within a second", func(t *testing.T) {
		removed := backs[2]
		ch.SetBindings(t, "web", samplekit.BindingsSet{Deps: map[string][]string{"backend": ch.Addrs["backend"][:2]}})
		start := time.Now()
		clean := 0
		for clean < 6 {
			if time.Since(start) > time.Second {
				t.Fatal("backend-2 still served a second after the bindings dropped it")
			}
			a := visit(t, client, entry+"/")
			if a.status != http.StatusOK {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			if a.page.Backend.Instance == removed.ID {
				clean = 0
			} else {
				clean++
			}
		}
		t.Logf("traffic moved after %s", time.Since(start).Round(time.Millisecond))
		before := removed.Runtime.Stats.Requests.Load()
		for range 6 {
			visit(t, client, entry+"/")
		}
		if after := removed.Runtime.Stats.Requests.Load(); after != before {
			t.Fatalf("removed backend still got %d requests", after-before)
		}
	})

	t.Run("graceful shutdown finishes an in-flight request", func(t *testing.T) {
		type result struct {
			a   answer
			err error
		}
		res := make(chan result, 1)
		go func() {
			a, err := fetch(client, entry+"/?hold=400ms")
			res <- result{a, err}
		}()
		var busy *sktest.Program
		waitFor(t, 2*time.Second, "a back end holds the session", func() bool {
			for _, b := range backs {
				if b.Slots.InUse() == 1 {
					busy = b
					return true
				}
			}
			return false
		})
		start := time.Now()
		if err := busy.Stop(); err != nil {
			t.Fatalf("shutdown = %v, want nil", err)
		}
		if time.Since(start) < 200*time.Millisecond {
			t.Fatalf("shutdown returned after %s, before the session could end", time.Since(start))
		}
		r := <-res
		if r.err != nil {
			t.Fatal(r.err)
		}
		if a := r.a; a.status != http.StatusOK || a.page.Backend.Instance != busy.ID {
			t.Fatalf("in-flight request: %d %s (held by %s)", a.status, a.body, busy.ID)
		}
		if _, err := net.DialTimeout("tcp", busy.Addr, time.Second); err == nil {
			t.Fatal("stopped back end still accepts connections")
		}
		// The rest of the chain goes on without it.
		if a := visit(t, client, entry+"/"); a.status != http.StatusOK {
			t.Fatalf("after one back end stopped: %d %s", a.status, a.body)
		}
	})
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

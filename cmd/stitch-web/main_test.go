package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/samplekit"
	"github.com/stitchnfv/stitch/internal/samplekit/sktest"
)

func TestHelp(t *testing.T) {
	sktest.RequireHelp(t, run, "-listen", "-backend", "/admin", "STITCH_BINDINGS")
}

func TestUsageErrors(t *testing.T) {
	sktest.RequireUsageErrors(t, run, []string{"--backend", "x"})
}

func TestExampleVNFDArgs(t *testing.T) {
	prog, args := sktest.ExampleArgs(t, "../../examples/vnfd/web.yaml", map[string]string{"STITCH_ADDR_DATA": "10.10.1.5"})
	opts, err := parseFlags(args, &bytes.Buffer{})
	if err != nil || prog != "stitch-web" || opts.listen != "10.10.1.5:8080" {
		t.Fatalf("%s %q: %+v, %v", prog, args, opts, err)
	}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, url, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, b}
}

// TestInChain runs stitch-web's run as the chain's only web front end,
// finding its back ends without --backend (the only profile in deps).
func TestInChain(t *testing.T) {
	addr := sktest.FreeAddr(t)
	c := sktest.StartChain(t, map[string][]string{"web": {addr}})
	p := sktest.Start(t, "stitch-web", run, addr, []string{"--listen", addr}, c.Env("web", "web-5"))
	entry := "http://" + c.Entry()

	a := do(t, http.MethodGet, entry+"/?user=ann", "")
	var page struct {
		ServedBy string          `json:"served_by"`
		Trace    []string        `json:"trace"`
		Backend  json.RawMessage `json:"backend"`
	}
	if a.status != 200 {
		t.Fatalf("GET / = %d %s", a.status, a.body)
	}
	if err := json.Unmarshal(a.body, &page); err != nil {
		t.Fatal(err)
	}
	if page.ServedBy != "web-5" || len(page.Trace) != 5 || page.Trace[2] != "web:web-5" || !strings.Contains(string(page.Backend), `"visits":1`) {
		t.Fatalf("page = %s", a.body)
	}
	if a := do(t, http.MethodGet, "http://"+addr+"/admin", ""); a.status != 200 {
		t.Fatalf("GET /admin = %d", a.status)
	}

	// Every back end full (ServiceModifySessions to 0): their 503 reaches
	// the client, Retry-After included.
	setSlots := func(n int) {
		for _, b := range c.Addrs["backend"] {
			if a := do(t, http.MethodPut, "http://"+b+"/slots", fmt.Sprintf(`{"max":%d}`, n)); a.status != 200 {
				t.Fatalf("PUT /slots = %d %s", a.status, a.body)
			}
		}
	}
	setSlots(0)
	if a := do(t, http.MethodGet, entry+"/", ""); a.status != 503 || a.header.Get("Retry-After") != "1" {
		t.Fatalf("with no slots: %d Retry-After=%q %s", a.status, a.header.Get("Retry-After"), a.body)
	}
	setSlots(20)
	if a := do(t, http.MethodGet, entry+"/", ""); a.status != 200 {
		t.Fatalf("slots back: %d %s", a.status, a.body)
	}

	// No back end at all: 502 from this hop.
	c.SetBindings(t, "web", samplekit.BindingsSet{})
	deadline := time.Now().Add(time.Second)
	for a = do(t, http.MethodGet, entry+"/", ""); a.status != http.StatusBadGateway; a = do(t, http.MethodGet, entry+"/", "") {
		if time.Now().After(deadline) {
			t.Fatalf("still %d a second after the bindings emptied", a.status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(string(a.body), `"hop":"web:web-5"`) {
		t.Fatalf("problem = %s", a.body)
	}
	if st := sktest.Stats(t, addr); st.Errors == 0 || st.Forwarded < 3 {
		t.Fatalf("stats = %+v", st)
	}
	if err := p.Stop(t); err != nil {
		t.Fatalf("stop = %v, want nil", err)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	if err != nil || prog != "stitch-web" || opts.listen != ":8080" {
		t.Fatalf("%s %q: %+v, %v", prog, args, opts, err)
	}
}

// TestInChain runs stitch-web's run as the chain's only web front end,
// finding its back ends without --backend (the only profile in deps).
func TestInChain(t *testing.T) {
	addr := sktest.FreeAddr(t)
	c := sktest.StartChain(t, map[string][]string{"web": {addr}})
	p := sktest.Start(t, "stitch-web", run, addr, []string{"--listen", addr}, c.Env("web", "web-5"))
	entry := "http://" + c.Entry()

	a := sktest.Do(t, http.MethodGet, entry+"/?user=ann", "")
	var page struct {
		ServedBy string          `json:"served_by"`
		Trace    []string        `json:"trace"`
		Backend  json.RawMessage `json:"backend"`
	}
	if a.Status != 200 {
		t.Fatalf("GET / = %d %s", a.Status, a.Body)
	}
	if err := json.Unmarshal([]byte(a.Body), &page); err != nil {
		t.Fatal(err)
	}
	if page.ServedBy != "web-5" || len(page.Trace) != 5 || page.Trace[2] != "web:web-5" || !strings.Contains(string(page.Backend), `"visits":1`) {
		t.Fatalf("page = %s", a.Body)
	}
	if a := sktest.Do(t, http.MethodGet, "http://"+addr+"/admin", ""); a.Status != 200 {
		t.Fatalf("GET /admin = %d", a.Status)
	}

	// Every back end full (ServiceModifySessions to 0): their 503 reaches
	// the client, Retry-After included.
	setSlots := func(n int) {
		for _, b := range c.Addrs["backend"] {
			if a := sktest.Do(t, http.MethodPut, "http://"+b+"/slots", fmt.Sprintf(`{"max":%d}`, n)); a.Status != 200 {
				t.Fatalf("PUT /slots = %d %s", a.Status, a.Body)
			}
		}
	}
	setSlots(0)
	if a := sktest.Do(t, http.MethodGet, entry+"/", ""); a.Status != 503 || a.Header.Get("Retry-After") != "1" {
		t.Fatalf("with no slots: %d Retry-After=%q %s", a.Status, a.Header.Get("Retry-After"), a.Body)
	}
	setSlots(20)
	if a := sktest.Do(t, http.MethodGet, entry+"/", ""); a.Status != 200 {
		t.Fatalf("slots back: %d %s", a.Status, a.Body)
	}

	// No back end at all: 502 from this hop.
	c.SetBindings(t, "web", samplekit.BindingsSet{})
	deadline := time.Now().Add(time.Second)
	for a = sktest.Do(t, http.MethodGet, entry+"/", ""); a.Status != http.StatusBadGateway; a = sktest.Do(t, http.MethodGet, entry+"/", "") {
		if time.Now().After(deadline) {
			t.Fatalf("still %d a second after the bindings emptied", a.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(a.Body, `"hop":"web:web-5"`) {
		t.Fatalf("problem = %s", a.Body)
	}
	if st := sktest.Stats(t, addr); st.Errors == 0 || st.Forwarded < 3 {
		t.Fatalf("stats = %+v", st)
	}
	if err := p.Stop(t); err != nil {
		t.Fatalf("stop = %v, want nil", err)
	}
}

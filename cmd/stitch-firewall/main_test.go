package main

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/samplekit"
	"github.com/stitchnfv/stitch/internal/samplekit/sktest"
)

func TestHelp(t *testing.T) {
	sktest.RequireHelp(t, run, "-listen", "-deny-src", "-deny-path", "-deny-method", "-log-level", "STITCH_BINDINGS")
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--listen", "127.0.0.1:0", "--deny-src", "nope"},
		{"--listen", "127.0.0.1:0", "--deny-path", "admin"},
		{"--listen", "127.0.0.1:0", "extra"},
		{"--bogus"},
	} {
		sktest.RequireUsageErrors(t, run, args)
	}
}

// TestExampleVNFDArgs keeps examples/vnfd/firewall.yaml runnable.
func TestExampleVNFDArgs(t *testing.T) {
	prog, args := sktest.ExampleArgs(t, "../../examples/vnfd/firewall.yaml", map[string]string{"STITCH_ADDR_DATA": "127.0.0.1"})
	if prog != "stitch-firewall" {
		t.Fatalf("program %q", prog)
	}
	opts, err := parseFlags(args, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("VNFD args %q: %v", args, err)
	}
	if opts.listen != ":8080" || len(opts.rules.Paths) != 1 || opts.rules.Paths[0] != "/admin" {
		t.Fatalf("options %+v", opts)
	}
}

// TestInChain runs stitch-firewall's run in front of the in-process chain
// (lb → 2 web → 3 backends → kvdb).
func TestInChain(t *testing.T) {
	addr := sktest.FreeAddr(t)
	c := sktest.StartChain(t, map[string][]string{"fw": {addr}})
	p := sktest.Start(t, "stitch-firewall", run, addr,
		[]string{"--listen", addr, "--deny-path", "/admin", "--deny-method", "delete", "--deny-src", "192.0.2.0/24"},
		c.Env("fw", "fw-7"))
	client := &http.Client{Timeout: 5 * time.Second}

	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	hops := samplekit.SplitTrace(resp.Header.Get(samplekit.TraceHeader))
	if resp.StatusCode != 200 || len(hops) != 5 || hops[0] != "fw:fw-7" || hops[1] != "lb:lb-0" || hops[4] != "kvdb:db-0" {
		t.Fatalf("GET / = %s, trace %v", resp.Status, hops)
	}

	noReuse := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for _, req := range []*http.Request{
		must(http.NewRequest(http.MethodGet, "http://"+addr+"/admin", nil)),
		must(http.NewRequest(http.MethodDelete, "http://"+addr+"/", nil)),
	} {
		if resp, err := noReuse.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("%s %s answered %s; want the connection dropped", req.Method, req.URL.Path, resp.Status)
		}
	}
	st := sktest.Stats(t, addr)
	if st.Dropped != 2 || st.Forwarded != 1 || st.Requests != 3 || st.Role != "fw" || st.Instance != "fw-7" {
		t.Fatalf("stats = %+v", st)
	}
	if err := p.Stop(t); err != nil {
		t.Fatalf("stop = %v, want nil", err)
	}
}

func must(r *http.Request, err error) *http.Request {
	if err != nil {
		panic(err)
	}
	return r
}

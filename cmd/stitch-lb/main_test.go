package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/samplekit"
	"github.com/stitchnfv/stitch/internal/samplekit/sktest"
)

func TestHelp(t *testing.T) {
	sktest.RequireHelp(t, run, "-listen", "-policy", "least-conn", "STITCH_BINDINGS")
}

func TestUsageErrors(t *testing.T) {
	sktest.RequireUsageErrors(t, run, []string{}, []string{"--listen", "127.0.0.1:0", "--policy", "random"})
}

func TestExampleVNFDArgs(t *testing.T) {
	prog, args := sktest.ExampleArgs(t, "../../examples/vnfd/lb.yaml", map[string]string{"STITCH_ADDR_DATA": "10.10.1.4"})
	opts, err := parseFlags(args, &bytes.Buffer{})
	if err != nil || prog != "stitch-lb" || opts.listen != ":8080" || opts.policy != samplekit.LeastConn {
		t.Fatalf("%s %q: %+v, %v", prog, args, opts, err)
	}
}

type answer struct {
	status int
	hops   []string
	body   []byte
}

func get(t *testing.T, url string) answer {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, samplekit.SplitTrace(resp.Header.Get(samplekit.TraceHeader)), b}
}

// TestInChain runs stitch-lb's run as the chain's load balancer: firewall
// → lb → 2 web → 3 backends → kvdb.
func TestInChain(t *testing.T) {
	addr := sktest.FreeAddr(t)
	c := sktest.StartChain(t, map[string][]string{"lb": {addr}})
	p := sktest.Start(t, "stitch-lb", run, addr, []string{"--listen", addr, "--policy", "least-conn"}, c.Env("lb", "lb-3"))
	entry := "http://" + c.Entry()

	webs := map[string]bool{}
	for range 4 {
		a := get(t, entry+"/")
		if a.status != 200 || len(a.hops) != 5 || a.hops[1] != "lb:lb-3" {
			t.Fatalf("GET / = %d, trace %v: %s", a.status, a.hops, a.body)
		}
		webs[a.hops[2]] = true
	}
	if len(webs) != 2 {
		t.Fatalf("least-conn used webs %v, want both", webs)
	}

	// A dead instance in "next" costs a retry, not an error.
	dead := sktest.FreeAddr(t)
	c.SetBindings(t, "lb", samplekit.BindingsSet{Next: []string{dead, c.Addrs["web"][0]}})
	time.Sleep(400 * time.Millisecond) // > one bindings poll
	for range 4 {
		if a := get(t, entry+"/"); a.status != 200 {
			t.Fatalf("with a dead instance: %d %s", a.status, a.body)
		}
	}
	if st := sktest.Stats(t, addr); st.Errors != 0 {
		t.Fatalf("errors = %d with one live instance left", st.Errors)
	}

	// Nothing left: 502 with a problem naming this hop.
	c.SetBindings(t, "lb", samplekit.BindingsSet{})
	deadline := time.Now().Add(time.Second)
	var a answer
	for a = get(t, entry+"/"); a.status != http.StatusBadGateway; a = get(t, entry+"/") {
		if time.Now().After(deadline) {
			t.Fatalf("still %d a second after the bindings emptied", a.status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var prob samplekit.Problem
	if err := json.Unmarshal(a.body, &prob); err != nil || prob.Hop != "lb:lb-3" || prob.Status != 502 {
		t.Fatalf("problem = %s (%v)", a.body, err)
	}
	if err := p.Stop(t); err != nil {
		t.Fatalf("stop = %v, want nil", err)
	}
}

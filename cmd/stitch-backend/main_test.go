package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/samplekit/sktest"
	"github.com/stitchnfv/stitch/sdk/slots"
)

func TestHelp(t *testing.T) {
	sktest.RequireHelp(t, run, "-listen", "-db", "-slots", "hold", "Retry-After", "STITCH_SLOTS")
}

func TestUsageErrors(t *testing.T) {
	sktest.RequireUsageErrors(t, run, []string{}, []string{"--listen", "127.0.0.1:0", "--slots", "-2"},
		[]string{"--listen", "127.0.0.1:0", "--slots", "x"})
	if err := run(t.Context(), []string{"--listen", "127.0.0.1:0"}, []string{"STITCH_SLOTS=many"}, &bytes.Buffer{}); err == nil {
		t.Error("STITCH_SLOTS=many accepted")
	}
}

func TestExampleVNFDArgs(t *testing.T) {
	prog, args := sktest.ExampleArgs(t, "../../examples/vnfd/backend.yaml", map[string]string{"STITCH_ADDR_DATA": "10.10.1.6"})
	opts, err := parseFlags(args, &bytes.Buffer{})
	if err != nil || prog != "stitch-backend" || opts.listen != ":8080" || opts.slots != -1 {
		t.Fatalf("%s %q: %+v, %v", prog, args, opts, err)
	}
}

func slotsOf(t *testing.T, addr string) slots.Snapshot {
	t.Helper()
	var s slots.Snapshot
	sktest.GetJSON(t, "http://"+addr+"/slots", &s)
	return s
}

func TestSlotBudget(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  []string
		want int
	}{
		{nil, nil, 20},
		{nil, []string{"STITCH_SLOTS=7"}, 7},
		{[]string{"--slots", "2"}, []string{"STITCH_SLOTS=7"}, 2},
		{[]string{"--slots", "0"}, nil, 0},
	} {
		addr := sktest.FreeAddr(t)
		p := sktest.Start(t, "stitch-backend", run, addr, append([]string{"--listen", addr}, c.args...), c.env)
		if got := slotsOf(t, addr); got.Max != c.want || got.Available != c.want {
			t.Errorf("args %q env %q: slots %+v, want max %d", c.args, c.env, got, c.want)
		}
		if err := p.Stop(t); err != nil {
			t.Fatal(err)
		}
	}
}

type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func get(url string) answer {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, b, err}
}

// TestInChain runs stitch-backend's run as the chain's only back end, with
// one slot: sessions exhaust it to 503 and SIGTERM lets the one in flight
// finish.
func TestInChain(t *testing.T) {
	addr := sktest.FreeAddr(t)
	c := sktest.StartChain(t, map[string][]string{"backend": {addr}})
	p := sktest.Start(t, "stitch-backend", run, addr, []string{"--listen", addr, "--db", "kvdb", "--slots", "1"},
		append(c.Env("backend", "backend-9"), "STITCH_SLOTS=5"))
	entry := "http://" + c.Entry()

	for i := 1; i <= 2; i++ {
		a := get(entry + "/")
		var page struct {
			Trace   []string `json:"trace"`
			Backend struct {
				Instance string         `json:"instance"`
				Visits   int            `json:"visits"`
				Slots    slots.Snapshot `json:"slots"`
			} `json:"backend"`
		}
		if a.err != nil || a.status != 200 {
			t.Fatalf("GET / = %d %v %s", a.status, a.err, a.body)
		}
		if err := json.Unmarshal(a.body, &page); err != nil {
			t.Fatal(err)
		}
		if page.Backend.Instance != "backend-9" || page.Backend.Visits != i || page.Trace[3] != "backend:backend-9" ||
			page.Backend.Slots != (slots.Snapshot{Max: 1, Available: 0, InUse: 1, Seq: uint64(2*i - 1)}) {
			t.Fatalf("visit %d: %s", i, a.body)
		}
	}
	if a := get("http://" + addr + "/api/visit?hold=soon"); a.status != http.StatusBadRequest {
		t.Fatalf("hold=soon = %d", a.status)
	}

	held := make(chan answer, 1)
	go func() { held <- get(entry + "/?hold=600ms") }()
	deadline := time.Now().Add(2 * time.Second)
	for slotsOf(t, addr).InUse != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the held session never took the slot")
		}
		time.Sleep(5 * time.Millisecond)
	}
	a := get(entry + "/")
	if a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") != "1" ||
		!strings.Contains(string(a.body), `"hop":"backend:backend-9"`) {
		t.Fatalf("with the slot held: %d Retry-After=%q %s", a.status, a.header.Get("Retry-After"), a.body)
	}
	if st := sktest.Stats(t, addr); st.Rejected != 1 || st.Slots == nil || st.Slots.InUse != 1 {
		t.Fatalf("stats = %+v", st)
	}

	// SIGTERM with the session in flight: it finishes, then run returns nil.
	if err := p.Stop(t); err != nil {
		t.Fatalf("stop = %v, want nil", err)
	}
	if h := <-held; h.err != nil || h.status != 200 || !strings.Contains(string(h.body), `"held":"600ms"`) {
		t.Fatalf("held session: %d %v %s", h.status, h.err, h.body)
	}
	if sktest.Healthy(addr) {
		t.Fatal("still serving after stop")
	}
}

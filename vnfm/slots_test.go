package vnfm

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/sdk/slots"
	"github.com/stitchnfv/stitch/vim"
)

// loopbackVIM dials on the host: the collector's logic, not the VIM, is
// under test here (internal/daemon's tests collect through vim/local).
type loopbackVIM struct{ vim.Driver }

func (loopbackVIM) DialContext(ctx context.Context, _, network, address string) (net.Conn, error) {
	return (&net.Dialer{}).DialContext(ctx, network, address)
}

func TestSlotCollector(t *testing.T) {
	m, err := New(loopbackVIM{}, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	serve := func(h http.Handler) string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return strings.TrimPrefix(srv.URL, "http://")
	}
	budget := slots.New(20)
	release, _ := budget.Acquire()
	defer release()
	good := serve(slots.Handler(budget, nil))
	liar := serve(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"max": 2, "available": 5, "in_use": 0}`))
	}))
	broken := serve(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusInternalServerError) }))

	c := m.NewSlotCollector(0)
	c.SetTargets([]SlotTarget{
		{Instance: "be-0", NS: "ns1", Profile: "backend", Addr: good},
		{Instance: "be-1", NS: "ns1", Profile: "backend", Addr: liar},
		{Instance: "be-2", NS: "ns2", Profile: "backend", Addr: broken},
	})
	c.Collect(context.Background())
	got := c.Reports("ns1")
	if len(got) != 2 || got[0].Instance != "be-0" || got[1].Instance != "be-1" {
		t.Fatalf("ns1 reports %+v", got)
	}
	if r := got[0]; r.Max != 20 || r.Available != 19 || r.InUse != 1 || r.Seq != 1 || r.At.IsZero() || r.Error != "" {
		t.Fatalf("good report %+v", r)
	}
	if r := got[1]; r.Error == "" || !r.At.IsZero() || r.Max != 0 {
		t.Fatalf("an inconsistent report (more available than max) must be refused: %+v", r)
	}
	if r := c.Reports("ns2"); len(r) != 1 || !strings.Contains(r[0].Error, "HTTP 500") {
		t.Fatalf("ns2 reports %+v", r)
	}

	// A read that fails keeps the last good values, with the error.
	first := got[0]
	c.SetTargets([]SlotTarget{{Instance: "be-0", NS: "ns1", Profile: "backend", Addr: broken}})
	c.Collect(context.Background())
	r := c.Reports("")
	if len(r) != 1 || r[0].Max != 20 || !r[0].At.Equal(first.At) || r[0].Error == "" {
		t.Fatalf("after a failed read: %+v, want the last good report with the error", r)
	}
	c.SetTargets(nil)
	if r := c.Reports(""); len(r) != 0 {
		t.Fatalf("untargeted instances still reported: %+v", r)
	}
}

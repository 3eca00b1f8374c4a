package control

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/stitchnfv/stitch/servicerouter"
	"github.com/stitchnfv/stitch/servicerouter/slots"
	"github.com/stitchnfv/stitch/servicerouter/userspace"
	"github.com/stitchnfv/stitch/xdp"
)

// fixture is a router on the userspace data plane behind the handler.
type fixture struct {
	dp *userspace.Dataplane
	r  *servicerouter.Router
	h  http.Handler
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	dp, err := userspace.New(xdp.Options{RouterIPv4: netip.MustParseAddr("10.9.0.1"), ConnTableSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	r, err := servicerouter.New(dp, slots.DefaultParams(), xdp.RingSize, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{dp: dp, r: r, h: NewHandler(r, nil, opts...)}
}

func (f *fixture) do(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	return w.Code, w.Body.String()
}

func (f *fixture) mustDo(t *testing.T, method, path, body string) string {
	t.Helper()
	code, out := f.do(t, method, path, body)
	if code != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, code, out)
	}
	return out
}

func (f *fixture) views(t *testing.T) []ServiceView {
	t.Helper()
	var v viewsBody
	if err := json.Unmarshal([]byte(f.mustDo(t, http.MethodGet, "/v1/services", "")), &v); err != nil {
		t.Fatal(err)
	}
	return v.Services
}

func (f *fixture) rebuild(t *testing.T, now time.Time) {
	t.Helper()
	if err := f.r.Rebuild(context.Background(), now); err != nil {
		t.Fatal(err)
	}
}

// summary is what a PUT decides, without the estimates that move with
// the clock: "name vip:port/proto [id entries draining]... overflow".
func summary(vs []ServiceView) []string {
	var out []string
	for _, v := range vs {
		s := fmt.Sprintf("%s %s:%d/%s", v.Name, v.VIP, v.Port, v.Protocol)
		for _, in := range v.Instances {
			s += fmt.Sprintf(" [%s %d %t]", in.ID, in.Entries, in.Draining)
		}
		if v.Overflow != nil {
			s += " overflow " + v.Overflow.ID
		}
		out = append(out, s)
	}
	return out
}

func put(svcs ...Service) string {
	b, err := json.Marshal(servicesBody{Services: append([]Service{}, svcs...)})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func inst(id string, n int) Instance {
	return Instance{ID: id, Address: fmt.Sprintf("10.1.0.%d", n), MAC: fmt.Sprintf("02:00:00:00:00:%02x", n)}
}

func web(ins ...Instance) Service {
	return Service{Name: "web", VIP: "10.0.0.10", Port: 80, Protocol: TCP, Instances: ins}
}

func TestPutThenGet(t *testing.T) {
	f := newFixture(t)
	dns := Service{Name: "dns", VIP: "fd00::53", Port: 53, Protocol: UDP, Instances: []Instance{inst("d1", 5)},
		Overflow: &Instance{ID: "remote", Address: "10.2.0.1", MAC: "02:00:00:00:01:01"}, ICMPUnreachable: true}
	f.mustDo(t, http.MethodPut, "/v1/services", put(web(inst("a", 1), inst("b", 2)), dns))
	want := []string{"dns fd00::53:53/udp [d1 0 false] overflow remote", "web 10.0.0.10:80/tcp [a 0 false] [b 0 false]"}
	if got := summary(f.views(t)); !slices.Equal(got, want) {
		t.Fatalf("after PUT: %q, want %q", got, want)
	}
	// Declarative: what the next PUT leaves out is gone, a moved VIP moves.
	moved := web(inst("b", 2), inst("c", 3))
	moved.VIP = "10.0.0.11"
	f.mustDo(t, http.MethodPut, "/v1/services", put(moved))
	want = []string{"web 10.0.0.11:80/tcp [b 0 false] [c 0 false]"}
	if got := summary(f.views(t)); !slices.Equal(got, want) {
		t.Fatalf("after second PUT: %q, want %q", got, want)
	}
	f.mustDo(t, http.MethodPut, "/v1/services", `{"services":[]}`)
	if got := f.views(t); len(got) != 0 {
		t.Fatalf("after empty PUT: %+v", got)
	}
}

func TestPutRejectsBadBodies(t *testing.T) {
	// Every bad body starts with a good new service, so a handler that
	// applied before validating everything would show it.
	good := Service{Name: "new", VIP: "10.0.0.99", Port: 99, Protocol: TCP, Instances: []Instance{inst("n", 9)}}
	with := func(change func(*Service)) string {
		s := web(inst("a", 1), inst("b", 2))
		change(&s)
		return put(good, s)
	}
	tests := []struct {
		name, body string
		status     int
		want       string // in the error message
	}{
		{"malformed JSON", `{"services":[`, 400, "invalid JSON"},
		{"empty body", ``, 400, "empty body"},
		{"no services field", `{}`, 400, `"services" is required`},
		{"unknown top-level field", `{"services":[],"service":[]}`, 400, "unknown field"},
		{"unknown service field", strings.Replace(put(good, web(inst("a", 1))), `"port":80`, `"port":80,"weight":3`, 1), 400, `unknown field "weight"`},
		{"trailing data", put(good) + `{"services":[]}`, 400, "trailing data"},
		{"bad VIP", with(func(s *Service) { s.VIP = "10.0.0.300" }), 400, "services[1].vip"},
		{"multicast VIP", with(func(s *Service) { s.VIP = "224.0.0.1" }), 400, "services[1].vip"},
		{"no port", with(func(s *Service) { s.Port = 0 }), 400, "services[1].port"},
		{"bad MAC", with(func(s *Service) { s.Instances[1].MAC = "02:00:00:00:00" }), 400, "services[1].instances[1].mac"},
		{"long MAC", with(func(s *Service) { s.Instances[0].MAC = "02:00:00:00:00:00:00:01" }), 400, "services[1].instances[0].mac"},
		{"bad address", with(func(s *Service) { s.Instances[0].Address = "host.example" }), 400, "services[1].instances[0].address"},
		{"duplicate instance id", with(func(s *Service) { s.Instances[1].ID = "a" }), 400, `services[1].instances[1].id: "a" is also services[1].instances[0]`},
		{"overflow reuses an instance id", with(func(s *Service) { o := inst("b", 7); s.Overflow = &o }), 400, "services[1].overflow.id"},
		{"draining overflow", with(func(s *Service) { o := inst("o", 7); o.Draining = true; s.Overflow = &o }), 400, "services[1].overflow.draining"},
		{"bad protocol", with(func(s *Service) { s.Protocol = "sctp" }), 400, "services[1].protocol"},
		{"no name", with(func(s *Service) { s.Name = "" }), 400, "services[1].name"},
		{"duplicate name", with(func(s *Service) { s.Name = "new" }), 400, `services[1].name: "new" is also services[0]`},
		{"duplicate VIP", with(func(s *Service) { s.VIP, s.Port = good.VIP, good.Port }), 400, "is also service \"new\""},
		{"too large", `{"services":[],"pad":"` + strings.Repeat("x", MaxBodyBytes) + `"}`, 413, "larger than"},
	}
	f := newFixture(t)
	f.mustDo(t, http.MethodPut, "/v1/services", put(web(inst("a", 1), inst("b", 2))))
	before := summary(f.views(t))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out := f.do(t, http.MethodPut, "/v1/services", tt.body)
			var e errorBody
			if err := json.Unmarshal([]byte(out), &e); err != nil {
				t.Fatalf("answer %q is not a JSON error: %v", out, err)
			}
			if code != tt.status || !strings.Contains(e.Error, tt.want) {
				t.Errorf("got %d %q, want %d with %q", code, e.Error, tt.status, tt.want)
			}
			if after := summary(f.views(t)); !slices.Equal(after, before) {
				t.Errorf("state changed: %q, was %q", after, before)
			}
		})
	}
}

func TestTunnelSourcesRejectsFamily(t *testing.T) {
	f := newFixture(t, TunnelSources(netip.MustParseAddr("10.9.0.1"), netip.Addr{}))
	code, out := f.do(t, http.MethodPut, "/v1/services", put(web(Instance{ID: "v6", Address: "fd00::1", MAC: "02:00:00:00:00:01"})))
	if code != http.StatusBadRequest || !strings.Contains(out, "no IPv6 address") {
		t.Fatalf("got %d %s, want 400 naming the missing IPv6 tunnel source", code, out)
	}
	if got := f.views(t); len(got) != 0 {
		t.Fatalf("state changed: %+v", got)
	}
}

func TestRoutingErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodDelete, "/v1/services", 405, "GET, PUT"},
		{http.MethodGet, "/v1/reports", 405, "POST"},
		{http.MethodGet, "/v2/services", 404, ""},
		{http.MethodGet, "/healthz", 200, ""},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(tt.method, tt.path, nil)
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, req)
		if w.Code != tt.status || w.Header().Get("Allow") != tt.allow || w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d Allow=%q %s, want %d Allow=%q in JSON", tt.method, tt.path, w.Code, w.Header().Get("Allow"),
				w.Header().Get("Content-Type"), tt.status, tt.allow)
		}
	}
}

func reportsJSON(reps ...Report) string {
	b, err := json.Marshal(reportsBody{Reports: reps})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestReports(t *testing.T) {
	f := newFixture(t)
	f.mustDo(t, http.MethodPut, "/v1/services", put(web(inst("a", 1), inst("b", 2))))
	now := time.Now()
	out := f.mustDo(t, http.MethodPost, "/v1/reports", reportsJSON(
		Report{Service: "web", Instance: "a", Max: 10, Available: 7, MeasuredAt: now},
		Report{Service: "web", Instance: "zz", Max: 10, Available: 7, MeasuredAt: now},
		Report{Service: "nope", Instance: "a", Max: 10, Available: 7, MeasuredAt: now},
		Report{Service: "web", Instance: "b", Max: 10, Available: 11, MeasuredAt: now},
		Report{Service: "web", Instance: "b", Max: 10, Available: 5},
		Report{Service: "web", Instance: "a", Max: 10, Available: 1, MeasuredAt: now.Add(-time.Second)},
	))
	var res ReportResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	var rejected []string
	for _, r := range res.Rejected {
		if r.Error == "" {
			t.Errorf("rejection %+v without a reason", r)
		}
		rejected = append(rejected, r.Service+"/"+r.Instance)
	}
	want := []string{"web/zz", "nope/a", "web/b", "web/b", "web/a"}
	if res.Accepted != 1 || !slices.Equal(rejected, want) {
		t.Fatalf("accepted %d, rejected %q; want 1 and %q", res.Accepted, rejected, want)
	}
	v := f.views(t)
	if got := v[0].Instances[0].Estimate.Free; got != 7 {
		t.Errorf("a: free %d after its report, want 7 (the older report must not count)", got)
	}
	code, body := f.do(t, http.MethodPost, "/v1/reports", `{"reports":[{"service":"web","slots":3}]}`)
	if code != http.StatusBadRequest || !strings.Contains(body, "unknown field") {
		t.Errorf("report with unknown field: %d %s", code, body)
	}
}

func TestDraining(t *testing.T) {
	f := newFixture(t)
	a, b := inst("a", 1), inst("b", 2)
	f.mustDo(t, http.MethodPut, "/v1/services", put(web(a, b)))
	now := time.Now()
	f.mustDo(t, http.MethodPost, "/v1/reports", reportsJSON(
		Report{Service: "web", Instance: "a", Max: 100, Available: 100, MeasuredAt: now},
		Report{Service: "web", Instance: "b", Max: 100, Available: 100, MeasuredAt: now}))
	f.rebuild(t, now)
	if v := f.views(t)[0]; v.Instances[0].Entries == 0 || v.Instances[1].Entries == 0 {
		t.Fatalf("both instances have free slots, entries %d and %d", v.Instances[0].Entries, v.Instances[1].Entries)
	}
	b.Draining = true
	f.mustDo(t, http.MethodPut, "/v1/services", put(web(a, b)))
	f.rebuild(t, now)
	want := []string{fmt.Sprintf("web 10.0.0.10:80/tcp [a %d false] [b 0 true]", xdp.RingSize)}
	if got := summary(f.views(t)); !slices.Equal(got, want) {
		t.Fatalf("draining b: %q, want %q", got, want)
	}
	b.Draining = false
	f.mustDo(t, http.MethodPut, "/v1/services", put(web(a, b)))
	f.rebuild(t, now)
	if v := f.views(t)[0]; v.Instances[1].Draining || v.Instances[1].Entries == 0 {
		t.Fatalf("b resumed: %+v", v.Instances[1])
	}
}

// syn is a TCP SYN from a client to vip:port.
func syn(t *testing.T, vip string, port uint16) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 9, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 9, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(192, 0, 2, 1), DstIP: net.ParseIP(vip)}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: layers.TCPPort(port), SYN: true, Seq: 1, Window: 1024}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestMetrics(t *testing.T) {
	now := time.Now()
	f := newFixture(t, Clock(func() time.Time { return now }))
	a, b := inst("a", 1), inst("b", 2)
	b.Draining = true
	spill := Service{Name: "spill", VIP: "10.0.0.30", Port: 30, Protocol: TCP, Instances: []Instance{inst("x", 3)},
		Overflow: &Instance{ID: "remote", Address: "10.2.0.1", MAC: "02:00:00:00:01:01"}}
	refuse := Service{Name: "refuse", VIP: "10.0.0.20", Port: 20, Protocol: TCP}
	f.mustDo(t, http.MethodPut, "/v1/services", put(web(a, b), spill, refuse))
	f.mustDo(t, http.MethodPost, "/v1/reports", reportsJSON(
		Report{Service: "web", Instance: "a", Max: 100, Available: 60, MeasuredAt: now},
		Report{Service: "web", Instance: "b", Max: 100, Available: 100, MeasuredAt: now}))
	f.rebuild(t, now)
	// One session each: web's goes to a (b drains), spill's to its
	// overflow (x never reported), refuse's is refused.
	for _, s := range []Service{web(), spill, refuse} {
		if v, _ := f.dp.Process(syn(t, s.VIP, s.Port), 1); v.Action != userspace.TX {
			t.Fatalf("SYN to %s: %v, want TX (encapsulated or reset)", s.Name, v)
		}
	}
	body := f.mustDo(t, http.MethodGet, "/metrics", "")
	want := []string{
		`stitch_router_instance_new_sessions_total{instance="a",service="web"} 1`,
		`stitch_router_instance_new_sessions_total{instance="b",service="web"} 0`,
		`stitch_router_instance_packets_total{instance="a",service="web"} 1`,
		`stitch_router_instance_reported_free_slots{instance="a",service="web"} 60`,
		`stitch_router_instance_table_entries{instance="a",service="web"} 65537`,
		`stitch_router_instance_table_entries{instance="b",service="web"} 0`,
		`stitch_router_instance_draining{instance="b",service="web"} 1`,
		`stitch_router_instance_draining{instance="a",service="web"} 0`,
		`stitch_router_service_new_sessions_total{service="web"} 1`,
		`stitch_router_service_refused_total{service="web"} 0`,
		`stitch_router_service_refused_total{service="refuse"} 1`,
		`stitch_router_service_overflow_sessions_total{service="spill"} 1`,
		`stitch_router_service_overflow_sessions_total{service="web"} 0`,
	}
	lines := strings.Split(body, "\n")
	for _, w := range want {
		if !slices.Contains(lines, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
	// The estimate of a is its weight: positive (40 slots in use of 100,
	// reported just now), and at most the free slots it reported.
	var est float64
	prefix := `stitch_router_instance_free_slots_estimate{instance="a",service="web"} `
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, prefix); ok {
			if _, err := fmt.Sscan(v, &est); err != nil {
				t.Fatal(err)
			}
		}
	}
	if est <= 0 || est > 60 {
		t.Errorf("free-slot estimate of a = %v, want in (0, 60]", est)
	}
	if t.Failed() {
		t.Log(body)
	}
}

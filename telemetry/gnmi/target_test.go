package gnmi

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc/codes"

	"github.com/stitchnfv/stitch/telemetry"
)

const slotsWeb1 = "/services/service[name=web]/instances/instance[id=i1]/state/available-slots"

func TestCapabilities(t *testing.T) {
	h := start(t, Options{})
	resp, err := h.client(t).Capabilities(context.Background(), &gpb.CapabilityRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetGNMIVersion() == "" {
		t.Error("no gNMI version")
	}
	for _, enc := range []gpb.Encoding{gpb.Encoding_JSON, gpb.Encoding_JSON_IETF, gpb.Encoding_PROTO} {
		if !slices.Contains(resp.GetSupportedEncodings(), enc) {
			t.Errorf("encoding %v not declared: %v", enc, resp.GetSupportedEncodings())
		}
	}
	var names []string
	for _, m := range resp.GetSupportedModels() {
		names = append(names, m.GetName())
	}
	if !slices.Contains(names, "stitch-services") || !slices.Contains(names, "openconfig-interfaces") {
		t.Errorf("models = %v", names)
	}
}

func TestGet(t *testing.T) {
	h := start(t, Options{Name: "vnf1"})
	h.set(t, slotsWeb1, uint64(12))
	h.set(t, "/services/service[name=web]/instances/instance[id=i2]/state/available-slots", uint64(3))
	h.set(t, "/services/service[name=web]/instances/instance[id=i1]/state/oper-status", "UP")
	h.set(t, "/system/state/cpu-utilization", 12.5)
	h.set(t, "/interfaces/interface[name=eth0]/state/counters/in-octets", int64(-1))
	c := h.client(t)

	tests := []struct {
		name   string
		req    *gpb.GetRequest
		want   []any // values in path order, when code is OK
		code   codes.Code
		wantNs int // notifications, when non-zero
	}{
		{name: "exact leaf", req: &gpb.GetRequest{Path: []*gpb.Path{gpath(t, slotsWeb1)}, Encoding: gpb.Encoding_PROTO}, want: []any{uint64(12)}},
		{name: "key wildcard", req: &gpb.GetRequest{Path: []*gpb.Path{gpath(t, "/services/service[name=web]/instances/instance[id=*]/state/available-slots")}, Encoding: gpb.Encoding_PROTO}, want: []any{uint64(12), uint64(3)}},
		{name: "elem wildcard", req: &gpb.GetRequest{Path: []*gpb.Path{gpath(t, "/services/*/instances/*/state/oper-status")}, Encoding: gpb.Encoding_PROTO}, want: []any{"UP"}},
		{name: "any depth", req: &gpb.GetRequest{Path: []*gpb.Path{gpath(t, "/.../available-slots")}, Encoding: gpb.Encoding_PROTO}, want: []any{uint64(12), uint64(3)}},
		{name: "container", req: &gpb.GetRequest{Path: []*gpb.Path{gpath(t, "/services/service[name=web]/instances/instance[id=i1]")}, Encoding: gpb.Encoding_PROTO}, want: []any{uint64(12), "UP"}},
		{name: "prefix and target", req: &gpb.GetRequest{Prefix: &gpb.Path{Target: "vnf1", Elem: gpath(t, "/system/state").Elem}, Path: []*gpb.Path{gpath(t, "/cpu-utilization")}, Encoding: gpb.Encoding_PROTO}, want: []any{12.5}},
		{name: "json", req: &gpb.GetRequest{Path: []*gpb.Path{gpath(t, slotsWeb1)}, Encoding: gpb.Encoding_JSON}, want: []any{"json:12"}},
		{name: "json_ietf int64 as string", req: &gpb.GetRequest{Path: []*gpb.Path{gpath(t, "/interfaces/interface[name=eth0]/state/counters/in-octets")}, Encoding: gpb.Encoding_JSON_IETF}, want: []any{`json_ietf:"-1"`}},
		{name: "two paths", req: &gpb.GetRequest{Path: []*gpb.Path{gpath(t, slotsWeb1), gpath(t, "/system/state/cpu-utilization")}, Encoding: gpb.Encoding_PROTO}, want: []any{uint64(12), 12.5}, wantNs: 2},
		{name: "wildcard without data", req: &gpb.GetRequest{Path: []*gpb.Path{gpath(t, "/services/service[name=db]/.../available-slots")}}, want: nil, wantNs: 1},
		{name: "config type selects no state", req: &gpb.GetRequest{Path: []*gpb.Path{gpath(t, "/system/...")}, Type: gpb.GetRequest_CONFIG}, want: nil},
		{name: "unknown path", req: &gpb.GetRequest{Path: []*gpb.Path{gpath(t, "/services/service[name=db]")}}, code: codes.NotFound},
		{name: "other target", req: &gpb.GetRequest{Prefix: &gpb.Path{Target: "vnf2"}, Path: []*gpb.Path{gpath(t, slotsWeb1)}}, code: codes.NotFound},
		{name: "no path", req: &gpb.GetRequest{}, code: codes.InvalidArgument},
		{name: "empty element name", req: &gpb.GetRequest{Path: []*gpb.Path{{Elem: []*gpb.PathElem{{Name: "system"}, {Name: ""}}}}}, code: codes.InvalidArgument},
		{name: "deprecated element", req: &gpb.GetRequest{Path: []*gpb.Path{{Element: []string{"system", "state", "cpu-utilization"}}}, Encoding: gpb.Encoding_PROTO}, want: []any{12.5}},
		{name: "bad deprecated element", req: &gpb.GetRequest{Path: []*gpb.Path{{Element: []string{"system", "a/b"}}}}, code: codes.InvalidArgument},
		{name: "unknown origin", req: &gpb.GetRequest{Path: []*gpb.Path{{Origin: "cli", Elem: gpath(t, "/system").Elem}}}, code: codes.InvalidArgument},
		{name: "unsupported encoding", req: &gpb.GetRequest{Path: []*gpb.Path{gpath(t, slotsWeb1)}, Encoding: gpb.Encoding_ASCII}, code: codes.Unimplemented},
		{name: "unknown model", req: &gpb.GetRequest{Path: []*gpb.Path{gpath(t, slotsWeb1)}, UseModels: []*gpb.ModelData{{Name: "acme-widgets"}}}, code: codes.InvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := c.Get(context.Background(), tc.req)
			wantCode(t, err, tc.code)
			if tc.code != codes.OK {
				return
			}
			var got []any
			for _, u := range flatten(resp.GetNotification()) {
				got = append(got, u.val)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("values = %v, want %v", got, tc.want)
			}
			if tc.wantNs != 0 && len(resp.GetNotification()) != tc.wantNs {
				t.Errorf("%d notifications, want %d", len(resp.GetNotification()), tc.wantNs)
			}
			for _, n := range resp.GetNotification() {
				if n.GetTimestamp() == 0 {
					t.Errorf("notification without timestamp: %v", n)
				}
				if tc.req.GetPrefix().GetTarget() != "" && n.GetPrefix().GetTarget() != tc.req.GetPrefix().GetTarget() {
					t.Errorf("target not echoed: %v", n.GetPrefix())
				}
			}
		})
	}
}

func TestGetTimestampIsLastChange(t *testing.T) {
	h := start(t, Options{})
	h.set(t, slotsWeb1, 5)
	c := h.client(t)
	get := func() int64 {
		resp, err := c.Get(context.Background(), &gpb.GetRequest{Path: []*gpb.Path{gpath(t, slotsWeb1)}})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetNotification()[0].GetTimestamp()
	}
	first := get()
	h.set(t, slotsWeb1, 5) // unchanged
	if again := get(); again != first {
		t.Errorf("an equal Set moved the timestamp: %d → %d", first, again)
	}
	h.set(t, slotsWeb1, 4)
	if changed := get(); changed <= first {
		t.Errorf("a change did not move the timestamp: %d → %d", first, changed)
	}
}

func TestSetUnimplemented(t *testing.T) {
	h := start(t, Options{})
	_, err := h.client(t).Set(context.Background(), &gpb.SetRequest{Delete: []*gpb.Path{gpath(t, "/system")}})
	wantCode(t, err, codes.Unimplemented)
}

func TestServeShutdownEndsStreams(t *testing.T) {
	tree := telemetry.NewTree()
	tgt := NewTarget(tree, Options{Logger: slog.New(slog.DiscardHandler)})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- tgt.Serve(ctx, lis) }()
	h := &harness{tree: tree, target: tgt, addr: lis.Addr().String()}

	c := h.client(t)
	var subs []*subscription
	for _, mode := range []gpb.SubscriptionList_Mode{gpb.SubscriptionList_STREAM, gpb.SubscriptionList_POLL} {
		s := h.subscribe(t, c, &gpb.SubscriptionList{Mode: mode, Subscription: []*gpb.Subscription{{Path: gpath(t, "/system")}}})
		s.untilSync(t)
		subs = append(subs, s)
	}
	cancel()
	for _, s := range subs {
		wantCode(t, s.end(t), codes.Unavailable)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve after shutdown: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Serve did not return after its context ended")
	}
}

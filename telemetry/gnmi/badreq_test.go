package gnmi

import (
	"context"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"github.com/openconfig/gnmi/proto/gnmi_ext"
	"google.golang.org/grpc/codes"
)

// TestBadSubscriptionsLeaveOthersServed sends malformed subscriptions on
// their own streams while a healthy subscriber keeps receiving; each gets
// its status and the healthy stream sees every change made in between.
func TestBadSubscriptionsLeaveOthersServed(t *testing.T) {
	h := start(t, Options{Name: "vnf1"})
	h.set(t, slotsWeb1, uint64(100))
	c := h.client(t)
	good := h.subscribe(t, c, streamList(onChange(t, "/services")))
	good.untilSync(t)

	list := func(mode gpb.SubscriptionList_Mode, subs ...*gpb.Subscription) *gpb.SubscribeRequest {
		return &gpb.SubscribeRequest{Request: &gpb.SubscribeRequest_Subscribe{Subscribe: &gpb.SubscriptionList{Mode: mode, Subscription: subs}}}
	}
	withList := func(f func(*gpb.SubscriptionList)) *gpb.SubscribeRequest {
		r := list(gpb.SubscriptionList_STREAM, onChange(t, "/services"))
		f(r.GetSubscribe())
		return r
	}
	poll := &gpb.SubscribeRequest{Request: &gpb.SubscribeRequest_Poll{Poll: &gpb.Poll{}}}

	tests := []struct {
		name string
		msgs []*gpb.SubscribeRequest // sent in order
		sync bool                    // a sync_response is expected before the error
		code codes.Code
	}{
		{name: "poll first", msgs: []*gpb.SubscribeRequest{poll}, code: codes.InvalidArgument},
		{name: "empty request", msgs: []*gpb.SubscribeRequest{{}}, code: codes.InvalidArgument},
		{name: "no subscriptions", msgs: []*gpb.SubscribeRequest{list(gpb.SubscriptionList_STREAM)}, code: codes.InvalidArgument},
		{name: "bad path", msgs: []*gpb.SubscribeRequest{list(gpb.SubscriptionList_STREAM, &gpb.Subscription{Path: &gpb.Path{Elem: []*gpb.PathElem{{Name: ""}}}})}, code: codes.InvalidArgument},
		{name: "dots with keys", msgs: []*gpb.SubscribeRequest{list(gpb.SubscriptionList_STREAM, &gpb.Subscription{Path: &gpb.Path{Elem: []*gpb.PathElem{{Name: "...", Key: map[string]string{"a": "b"}}}}})}, code: codes.InvalidArgument},
		{name: "unknown list mode", msgs: []*gpb.SubscribeRequest{list(gpb.SubscriptionList_Mode(7), onChange(t, "/services"))}, code: codes.InvalidArgument},
		{name: "unknown subscription mode", msgs: []*gpb.SubscribeRequest{list(gpb.SubscriptionList_STREAM, &gpb.Subscription{Path: gpath(t, "/services"), Mode: gpb.SubscriptionMode(9)})}, code: codes.InvalidArgument},
		{name: "sample interval below minimum", msgs: []*gpb.SubscribeRequest{list(gpb.SubscriptionList_STREAM, sample(t, "/services", time.Millisecond))}, code: codes.InvalidArgument},
		{name: "heartbeat below minimum", msgs: []*gpb.SubscribeRequest{list(gpb.SubscriptionList_STREAM, &gpb.Subscription{Path: gpath(t, "/services"), Mode: gpb.SubscriptionMode_ON_CHANGE, HeartbeatInterval: uint64(time.Millisecond)})}, code: codes.InvalidArgument},
		{name: "unsupported encoding", msgs: []*gpb.SubscribeRequest{withList(func(l *gpb.SubscriptionList) { l.Encoding = gpb.Encoding_BYTES })}, code: codes.Unimplemented},
		{name: "other target", msgs: []*gpb.SubscribeRequest{withList(func(l *gpb.SubscriptionList) { l.Prefix = &gpb.Path{Target: "vnf9"} })}, code: codes.NotFound},
		{name: "extension", msgs: []*gpb.SubscribeRequest{{Request: list(gpb.SubscriptionList_STREAM, onChange(t, "/services")).Request, Extension: []*gnmi_ext.Extension{{}}}}, code: codes.Unimplemented},
		{name: "second subscription list", msgs: []*gpb.SubscribeRequest{list(gpb.SubscriptionList_STREAM, onChange(t, "/services")), list(gpb.SubscriptionList_STREAM, onChange(t, "/system"))}, sync: true, code: codes.InvalidArgument},
		{name: "poll on stream", msgs: []*gpb.SubscribeRequest{list(gpb.SubscriptionList_STREAM, onChange(t, "/services")), poll}, sync: true, code: codes.InvalidArgument},
		{name: "list on poll", msgs: []*gpb.SubscribeRequest{list(gpb.SubscriptionList_POLL, onChange(t, "/services")), list(gpb.SubscriptionList_POLL, onChange(t, "/services"))}, sync: true, code: codes.InvalidArgument},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			stream, err := c.Subscribe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tc.msgs {
				if err := stream.Send(m); err != nil {
					break // the server may already have ended the RPC
				}
			}
			var sawSync bool
			for {
				m, err := stream.Recv()
				if err != nil {
					wantCode(t, err, tc.code)
					break
				}
				sawSync = sawSync || m.GetSyncResponse()
			}
			if tc.sync && !sawSync {
				t.Error("the valid first list was not served before the error")
			}

			// The healthy subscriber sees a change made after each bad one.
			want := uint64(i)
			h.set(t, slotsWeb1, want)
			got := good.collect(t, func(u []leafUpdate) bool { return len(u) > 0 && u[len(u)-1].val == want })
			if len(got) == 0 {
				t.Fatal("healthy subscriber starved")
			}
		})
	}
	if st := h.target.Stats(); st.RejectedStreams < uint64(len(tests)) {
		t.Errorf("Stats().RejectedStreams = %d, want ≥ %d", st.RejectedStreams, len(tests))
	}
}

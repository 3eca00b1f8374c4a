package samplekit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/stitchnfv/stitch/sdk/slots"
	sdktelemetry "github.com/stitchnfv/stitch/sdk/telemetry"
	"github.com/stitchnfv/stitch/telemetry"
)

// TestServerPublishesTelemetry: under stitch (an instance id and a data
// address) a sample serves its counters and slots over gNMI on the data
// address; a slot taken reaches an ON_CHANGE subscriber, and so does
// oper-status DOWN when it shuts down.
func TestServerPublishesTelemetry(t *testing.T) {
	// A loopback address of its own: the gNMI port is fixed.
	host := fmt.Sprintf("127.%d.%d.%d", 1+rand.IntN(250), rand.IntN(250), 1+rand.IntN(250))
	rt, err := NewRuntime("backend", []string{EnvInstanceID + "=be-7", EnvVnfProfile + "=backend", CpdEnvKey("data") + "=" + host}, nil)
	if err != nil {
		t.Fatal(err)
	}
	budget := slots.New(5)
	_, stop := serve(t, &Server{Runtime: rt, Slots: budget})

	conn, err := grpc.NewClient(net.JoinHostPort(host, fmt.Sprint(sdktelemetry.Port)), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var sub gpb.GNMI_SubscribeClient
	for {
		if sub, err = subscribeOnChange(ctx, gpb.NewGNMIClient(conn), "backend", "be-7"); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("subscribe: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	seen := map[string]string{} // latest value by path, over the stream
	want := func(leaf string, v any) {
		t.Helper()
		path := sdktelemetry.MetricPath("backend", "be-7", leaf)
		for seen[path] != fmt.Sprint(v) {
			resp, err := sub.Recv()
			if err != nil {
				t.Fatalf("waiting for %s = %v (latest %q): %v", leaf, v, seen[path], err)
			}
			for _, u := range resp.GetUpdate().GetUpdate() {
				elems := append(append([]*gpb.PathElem{}, resp.GetUpdate().GetPrefix().GetElem()...), u.GetPath().GetElem()...)
				seen[pathString(elems)] = fmt.Sprint(scalarOf(u.GetVal()))
			}
		}
	}
	want("slots.available", 5)
	release, ok := budget.Acquire()
	if !ok {
		t.Fatal("no slot")
	}
	defer release()
	want("slots.available", 4)
	want(sdktelemetry.OperStatus, sdktelemetry.UP)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	want(sdktelemetry.OperStatus, sdktelemetry.DOWN)
}

func subscribeOnChange(ctx context.Context, c gpb.GNMIClient, service, instance string) (gpb.GNMI_SubscribeClient, error) {
	sub, err := c.Subscribe(ctx)
	if err != nil {
		return nil, err
	}
	prefix, err := telemetry.ParsePath(sdktelemetry.InstancePath(service, instance) + "/state")
	if err != nil {
		return nil, err
	}
	var pp gpb.Path
	for _, e := range prefix {
		pp.Elem = append(pp.Elem, &gpb.PathElem{Name: e.Name, Key: e.Keys})
	}
	req := &gpb.SubscribeRequest{Request: &gpb.SubscribeRequest_Subscribe{Subscribe: &gpb.SubscriptionList{
		Prefix: &pp, Mode: gpb.SubscriptionList_STREAM,
		Subscription: []*gpb.Subscription{{Path: &gpb.Path{Elem: []*gpb.PathElem{{Name: "..."}}}, Mode: gpb.SubscriptionMode_ON_CHANGE}},
	}}}
	if err := sub.Send(req); err != nil {
		return nil, err
	}
	// The first answer tells whether the target took the subscription.
	if _, err := sub.Recv(); err != nil {
		return nil, err
	}
	return sub, nil
}

func pathString(elems []*gpb.PathElem) string {
	var p telemetry.Path
	for _, e := range elems {
		p = append(p, telemetry.Elem{Name: e.GetName(), Keys: e.GetKey()})
	}
	return p.String()
}

func scalarOf(v *gpb.TypedValue) any {
	switch x := v.GetValue().(type) {
	case *gpb.TypedValue_IntVal:
		return x.IntVal
	case *gpb.TypedValue_UintVal:
		return x.UintVal
	case *gpb.TypedValue_StringVal:
		return x.StringVal
	case *gpb.TypedValue_DoubleVal:
		return x.DoubleVal
	case *gpb.TypedValue_BoolVal:
		return x.BoolVal
	}
	return nil
}

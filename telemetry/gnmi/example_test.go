package gnmi_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/stitchnfv/stitch/telemetry"
	"github.com/stitchnfv/stitch/telemetry/gnmi"
)

// A service publishes its state into a tree and serves it over gNMI; a
// collector reads it back.
func ExampleTarget() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	tree := telemetry.NewTree()
	slots := telemetry.Path{
		{Name: "services"},
		{Name: "service", Keys: map[string]string{"name": "web"}},
		{Name: "instances"},
		{Name: "instance", Keys: map[string]string{"id": "i1"}},
		{Name: "state"},
		{Name: "available-slots"},
	}.String() // String escapes key values, so any service name is safe
	if err := tree.Set(slots, uint64(8)); err != nil {
		panic(err)
	}

	target := gnmi.NewTarget(tree, gnmi.Options{Logger: slog.New(slog.DiscardHandler)})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	served := make(chan error, 1)
	go func() { served <- target.Serve(ctx, lis) }()

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	resp, err := gpb.NewGNMIClient(conn).Get(ctx, &gpb.GetRequest{
		Path:     []*gpb.Path{{Elem: []*gpb.PathElem{{Name: "services"}, {Name: "..."}, {Name: "available-slots"}}}},
		Encoding: gpb.Encoding_PROTO,
	})
	if err != nil {
		panic(err)
	}
	for _, n := range resp.GetNotification() {
		for _, u := range n.GetUpdate() {
			fmt.Println(u.GetPath().GetElem()[1].GetKey()["name"], u.GetVal().GetUintVal())
		}
	}
	cancel()
	if err := <-served; err != nil {
		panic(err)
	}
	// Output: web 8
}

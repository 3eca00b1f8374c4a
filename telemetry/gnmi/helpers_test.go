package gnmi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/stitchnfv/stitch/telemetry"
)

// waitLimit bounds every wait in these tests. It is a hang guard, not a
// performance assertion: on a loaded machine things are slower, never wrong.
const waitLimit = 20 * time.Second

type harness struct {
	tree   *telemetry.Tree
	target *Target
	addr   string
}

// start serves a fresh target on a kernel-chosen loopback port for the
// duration of the test.
func start(t testing.TB, opts Options) *harness {
	t.Helper()
	tree := telemetry.NewTree()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	tgt := NewTarget(tree, opts)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- tgt.Serve(ctx, lis) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &harness{tree: tree, target: tgt, addr: lis.Addr().String()}
}

func (h *harness) client(t testing.TB, opts ...grpc.DialOption) gpb.GNMIClient {
	t.Helper()
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)
	conn, err := grpc.NewClient(h.addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return gpb.NewGNMIClient(conn)
}

func (h *harness) set(t testing.TB, path string, v any) {
	t.Helper()
	if err := h.tree.Set(path, v); err != nil {
		t.Fatal(err)
	}
}

// subscription reads a Subscribe stream in the background so that tests
// can wait for messages with a deadline.
type subscription struct {
	stream gpb.GNMI_SubscribeClient
	cancel context.CancelFunc
	msgs   chan *gpb.SubscribeResponse
	err    chan error // the final Recv error (io.EOF for a clean end)
}

func (h *harness) subscribe(t testing.TB, c gpb.GNMIClient, list *gpb.SubscriptionList) *subscription {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := c.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&gpb.SubscribeRequest{Request: &gpb.SubscribeRequest_Subscribe{Subscribe: list}}); err != nil {
		t.Fatal(err)
	}
	s := &subscription{stream: stream, cancel: cancel, msgs: make(chan *gpb.SubscribeResponse, 1<<16), err: make(chan error, 1)}
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				s.err <- err
				return
			}
			s.msgs <- m
		}
	}()
	return s
}

// next returns the next message, failing the test if none arrives.
func (s *subscription) next(t testing.TB) *gpb.SubscribeResponse {
	t.Helper()
	select {
	case m := <-s.msgs:
		return m
	case err := <-s.err:
		// The reader queues every message before the final error, so a
		// message still queued now came first.
		select {
		case m := <-s.msgs:
			s.err <- err
			return m
		default:
		}
		t.Fatalf("stream ended: %v", err)
	case <-time.After(waitLimit):
		t.Fatal("no message within the wait limit")
	}
	return nil
}

// untilSync collects updates up to and including the sync_response.
func (s *subscription) untilSync(t testing.TB) []*gpb.Notification {
	t.Helper()
	var out []*gpb.Notification
	for {
		m := s.next(t)
		if m.GetSyncResponse() {
			return out
		}
		out = append(out, m.GetUpdate())
	}
}

// end waits for the stream to end and returns its status error (nil for a
// clean end).
func (s *subscription) end(t testing.TB) error {
	t.Helper()
	for {
		select {
		case <-s.msgs:
		case err := <-s.err:
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		case <-time.After(waitLimit):
			t.Fatal("stream did not end within the wait limit")
		}
	}
}

// leafUpdate is one update flattened for assertions.
type leafUpdate struct {
	path    string
	val     any
	ts      int64
	deleted bool
	dups    uint32
}

func flatten(ns []*gpb.Notification) []leafUpdate {
	var out []leafUpdate
	for _, n := range ns {
		for _, u := range n.GetUpdate() {
			out = append(out, leafUpdate{path: pathString(n.GetPrefix(), u.GetPath()), val: anyValue(u.GetVal()), ts: n.GetTimestamp(), dups: u.GetDuplicates()})
		}
		for _, d := range n.GetDelete() {
			out = append(out, leafUpdate{path: pathString(n.GetPrefix(), d), ts: n.GetTimestamp(), deleted: true})
		}
	}
	return out
}

func pathString(prefix, p *gpb.Path) string {
	full, err := fullPath(&gpb.Path{Elem: prefix.GetElem()}, p)
	if err != nil {
		return "<bad path>"
	}
	return full.String()
}

func anyValue(v *gpb.TypedValue) any {
	switch x := v.GetValue().(type) {
	case *gpb.TypedValue_IntVal:
		return x.IntVal
	case *gpb.TypedValue_UintVal:
		return x.UintVal
	case *gpb.TypedValue_DoubleVal:
		return x.DoubleVal
	case *gpb.TypedValue_StringVal:
		return x.StringVal
	case *gpb.TypedValue_BoolVal:
		return x.BoolVal
	case *gpb.TypedValue_JsonVal:
		return "json:" + string(x.JsonVal)
	case *gpb.TypedValue_JsonIetfVal:
		return "json_ietf:" + string(x.JsonIetfVal)
	}
	return nil
}

// gpath builds a gNMI path from the string form.
func gpath(t testing.TB, s string) *gpb.Path {
	t.Helper()
	p, err := telemetry.ParsePath(s)
	if err != nil {
		t.Fatal(err)
	}
	return toPath(p)
}

func wantCode(t testing.TB, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Errorf("status %v (%v), want %v", got, err, want)
	}
}

func streamList(subs ...*gpb.Subscription) *gpb.SubscriptionList {
	return &gpb.SubscriptionList{Mode: gpb.SubscriptionList_STREAM, Subscription: subs}
}

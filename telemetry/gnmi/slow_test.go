package gnmi

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"
)

// TestSlowClientBlocksNoOne has one client that stops reading with a small
// flow-control window, so the target's sends to it block. Writers must
// still finish, a second client must still see every final value, and the
// slow client, once it reads again, must get the latest value of each leaf
// (coalesced, and counted), not a stale backlog.
func TestSlowClientBlocksNoOne(t *testing.T) {
	h := start(t, Options{})
	const leaves, rounds = 50, 200
	big := strings.Repeat("x", 4096) // 50 leaves × 4 KiB overflows a 64 KiB window in one round
	path := func(i int) string {
		return fmt.Sprintf("/services/service[name=web]/instances/instance[id=i%d]/state/blob", i)
	}
	for i := range leaves {
		h.set(t, path(i), big+"-0")
	}

	// The slow client: a fixed 64 KiB window (no BDP growth), and a
	// stream that nobody reads until the end of the test.
	slowConn := h.client(t, grpc.WithInitialWindowSize(1<<16), grpc.WithInitialConnWindowSize(1<<16))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slow, err := slowConn.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := slow.Send(&gpb.SubscribeRequest{Request: &gpb.SubscribeRequest_Subscribe{Subscribe: streamList(onChange(t, "/services"))}}); err != nil {
		t.Fatal(err)
	}

	fast := h.subscribe(t, h.client(t), streamList(onChange(t, "/services")))
	fast.untilSync(t)

	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for r := 1; r <= rounds; r++ {
			for i := range leaves {
				if err := h.tree.Set(path(i), fmt.Sprintf("%s-%d", big, r)); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	select {
	case <-writerDone:
	case <-time.After(waitLimit):
		t.Fatal("writers blocked behind a client that does not read")
	}

	final := fmt.Sprintf("%s-%d", big, rounds)
	latest := func(s func() (*gpb.SubscribeResponse, error)) map[string]string {
		seen := map[string]string{}
		deadline := time.Now().Add(waitLimit)
		for done := 0; done < leaves; {
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d leaves reached their final value", done, leaves)
			}
			m, err := s()
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range flatten([]*gpb.Notification{m.GetUpdate()}) {
				if seen[u.path] != final && u.val == final {
					done++
				}
				seen[u.path] = u.val.(string)
			}
		}
		return seen
	}
	latest(func() (*gpb.SubscribeResponse, error) { return fast.next(t), nil })

	// Now the slow client drains: it must reach every final value without
	// having to read rounds×leaves messages.
	var read int
	latest(func() (*gpb.SubscribeResponse, error) { read++; return slow.Recv() })
	st := h.target.Stats()
	t.Logf("slow client read %d messages for %d changes; target coalesced %d", read, leaves*rounds, st.Coalesced)
	if st.Coalesced == 0 {
		t.Error("no update was coalesced although the client did not read")
	}
}

package fsm

import (
	"bufio"
	"bytes"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

// FuzzReceive feeds an established session arbitrary frames, with a tick
// between them. The speaker must not panic, and must never hold routes from
// a peer whose session closed with an error.
func FuzzReceive(f *testing.F) {
	var seed []byte
	r := wire.Route{Service: "s", Origin: "B", Path: []string{"B"}, Port: 1, Proto: wire.UDP}
	r.Address = mustAddr("192.0.2.1")
	r.Ingress = r.Address
	if err := wire.Sign(&r, testKey("B")); err != nil {
		f.Fatal(err)
	}
	rt := wire.Retraction{Service: "s", Origin: "B", Epoch: 1}
	if err := wire.SignRetraction(&rt, testKey("B")); err != nil {
		f.Fatal(err)
	}
	for _, m := range []wire.Message{
		wire.Update{Announce: []wire.Route{r}}, wire.Keepalive{}, wire.RouteRefresh{},
		wire.Update{Withdraw: []string{"s"}, Retract: []wire.Retraction{rt}},
		wire.Update{Withdraw: []string{"s"}}, wire.EndOfRIB{}, wire.Notification{Code: wire.CodeCease},
	} {
		b, err := wire.AppendFrame(nil, m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		seed = append(seed, b...)
	}
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		c := config("A", "B")
		c.Peers[0].MaxRoutes = 4
		s, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		now := t0
		must(t, s.Connected(now, "B"))
		must(t, s.Receive(now, "B", wire.Open{Version: wire.Version, DomainID: "B", HoldTime: 9 * time.Second}))
		must(t, s.Receive(now, "B", wire.Keepalive{}))
		in := bufio.NewReader(bytes.NewReader(data))
		for range 64 {
			m, err := wire.ReadFrame(in, 1<<12)
			if err != nil {
				must(t, s.ReceiveError(now, "B", err))
				break
			}
			must(t, s.Receive(now, "B", m))
			now = now.Add(time.Second)
			s.Tick(now)
			if s.RIB().Count("B") > 4 {
				t.Fatalf("%d routes held over the limit", s.RIB().Count("B"))
			}
		}
		s.Ready()
		if s.State("B") == Idle && s.RIB().Count("B") != 0 {
			t.Fatalf("closed session left %d routes", s.RIB().Count("B"))
		}
	})
}

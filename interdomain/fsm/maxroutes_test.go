package fsm

import (
	"net/netip"
	"testing"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

func signed(t *testing.T, service string) wire.Route {
	r := wire.Route{
		Service: service, Address: netip.MustParseAddr("198.51.100.1"), Port: 80, Proto: wire.TCP,
		Origin: "B", Path: []string{"B"}, Ingress: netip.MustParseAddr("192.0.2.1"),
	}
	must(t, wire.Sign(&r, testKey("B")))
	return r
}

// TestMaxRoutesCounting: the limit counts what the peer would hold after the
// UPDATE.
func TestMaxRoutesCounting(t *testing.T) {
	tests := []struct {
		name     string
		announce []string
		withdraw []string
		closed   bool
	}{
		{"within", []string{"c"}, nil, false},
		{"over", []string{"c", "d"}, nil, true},
		{"same service twice", []string{"c", "c"}, nil, false},
		{"replace within one update", []string{"c", "d"}, []string{"a"}, false},
		{"re-announce held routes", []string{"a", "b"}, nil, false},
		{"withdraw and re-announce", []string{"a", "c"}, []string{"a"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPair(t, func(a, _ *Config) { a.Peers[0].MaxRoutes = 3 })
			must(t, p.a.Receive(p.now, "B", wire.Update{Announce: []wire.Route{signed(t, "a"), signed(t, "b")}}))
			u := wire.Update{Withdraw: tt.withdraw}
			for _, s := range tt.announce {
				u.Announce = append(u.Announce, signed(t, s))
			}
			p.a.Ready()
			must(t, p.a.Receive(p.now, "B", u))
			out := p.a.Ready()
			closed := len(out.Close) == 1
			if closed != tt.closed {
				t.Fatalf("closed = %v, want %v (output %+v)", closed, tt.closed, out)
			}
			if closed {
				n, ok := out.Messages[0].Msg.(wire.Notification)
				if !ok || n.Code != wire.CodeCease || n.Subcode != wire.CeaseMaxRoutes {
					t.Fatalf("sent %+v", out.Messages)
				}
				if got := p.a.RIB().Count("B"); got != 0 {
					t.Fatalf("%d routes kept from a closed session", got)
				}
			}
		})
	}
}

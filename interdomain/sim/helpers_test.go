package sim

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/interdomain/fsm"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func service(name string, slots uint32) fsm.LocalService {
	return fsm.LocalService{
		Name: name, Address: netip.MustParseAddr("198.51.100.7"), Port: 443, Proto: wire.TCP,
		Ingress: netip.MustParseAddr("192.0.2.1"), Slots: slots,
	}
}

// build starts a network with every link up and sessions established.
func build(t testing.TB, top Topology, tune func(id string, c *fsm.Config)) *Network {
	t.Helper()
	n, err := New(t0, top, func(id string) fsm.Config {
		var c fsm.Config
		if tune != nil {
			tune(id, &c)
		}
		return c
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Up(); err != nil {
		t.Fatal(err)
	}
	n.Run(time.Second)
	for _, id := range n.IDs() {
		for _, p := range n.Speaker(id).Peers() {
			if p.State != fsm.Established {
				t.Fatalf("%s: session with %s is %v", id, p.ID, p.State)
			}
		}
	}
	return n
}

// path returns a domain's best path for service, "" if none.
func path(n *Network, id, svc string) string {
	b, ok := n.Speaker(id).RIB().Best(svc)
	if !ok {
		return ""
	}
	if b.Local() {
		return "local"
	}
	return strings.Join(b.Route.Path, ",")
}

// holders lists the domains that have a route for svc.
func holders(n *Network, svc string) []string {
	var out []string
	for _, id := range n.IDs() {
		if path(n, id, svc) != "" {
			out = append(out, id)
		}
	}
	return out
}

func events(n *Network, kind fsm.EventKind) []NodeEvent {
	var out []NodeEvent
	for _, e := range n.Stats().Events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func mustNot(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func isNotification(err error, code wire.NotifyCode) bool {
	var nt wire.Notification
	return errors.As(err, &nt) && nt.Code == code
}

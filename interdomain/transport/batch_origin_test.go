package transport

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/interdomain/fsm"
	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

// localServices returns n services named svc-000..., in that order.
func localServices(n int, slots uint32) []fsm.LocalService {
	out := make([]fsm.LocalService, n)
	for i := range out {
		out[i] = service(fmt.Sprintf("svc-%03d", i), slots)
	}
	return out
}

// TestAnnounceAllOverTheWire: o originates 300 services from its Config,
// batch-signed; n holds them all, with their proofs, and m, which does
// not announce the batch capability, holds them all signed alone; every
// route either holds verifies against o's key. A later AnnounceAll that
// adds services reaches both the same way, and one with an invalid
// service changes nothing.
func TestAnnounceAllOverTheWire(t *testing.T) {
	t.Parallel()
	l := newLab(t, "o", "n", "m")
	l.link("o", "n")
	l.link("o", "m")
	svcs := localServices(300, 10)
	l.tune = func(d string, c *Config) {
		switch d {
		case "o":
			c.Local = svcs
		case "m":
			c.Protocol.DisableBatchSignatures = true
		}
	}
	nodes := l.startAll()
	o := nodes["o"]

	// check waits for each neighbour to hold want routes from o, and
	// checks them.
	check := func(want int) {
		t.Helper()
		for name, batched := range map[string]bool{"n": true, "m": false} {
			nb := nodes[name]
			waitFor(t, 10*time.Second, fmt.Sprintf("%s holds %d routes from o", name, want), func() bool {
				return len(servicesFrom(t, nb, "o")) == want
			})
			routes, err := nb.Routes(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range routes {
				r := b.Route
				if err := wire.Verify(r, l.keys["o"]); err != nil {
					t.Fatalf("%s's %s: %v", name, r.Service, err)
				}
				if (r.BatchDepth() > 0) != batched {
					t.Fatalf("%s's %s: batch depth %d", name, r.Service, r.BatchDepth())
				}
			}
			st, err := nb.Stats(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			if st.RIB != (rib.Stats{}) {
				t.Fatalf("%s refused routes: %+v", name, st.RIB)
			}
		}
	}
	check(len(svcs))

	bad := append(localServices(320, 10), service("svc-000", 1)) // listed twice
	if err := o.AnnounceAll(ctxT(t), bad); !errors.Is(err, fsm.ErrDuplicateService) {
		t.Fatalf("AnnounceAll with a service twice = %v", err)
	}
	// The failure came back from the loop: o originates what it did.
	if got := len(servicesFrom(t, o, "")); got != len(svcs) {
		t.Fatalf("o originates %d services after a failed AnnounceAll", got)
	}

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(o.AnnounceAll(ctxT(t), localServices(320, 10)))
	check(320)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := o.AnnounceAll(ctx, localServices(1, 10)); !errors.Is(err, context.Canceled) {
		t.Fatalf("AnnounceAll with a done context = %v", err)
	}
}

// TestNewRefusesInvalidLocal: a Config.Local with an invalid service
// starts no node and names the service.
func TestNewRefusesInvalidLocal(t *testing.T) {
	t.Parallel()
	l := newLab(t, "o")
	c := l.config("o")
	c.Local = localServices(3, 10)
	c.Local[2].Port = 0
	n, err := New(context.Background(), c)
	if err == nil {
		_ = n.Close()
		t.Fatal("New accepted a service of port 0")
	}
	if !errors.Is(err, wire.ErrInvalid) {
		t.Fatalf("New = %v, want wire.ErrInvalid", err)
	}
}

package xdp

import (
	"context"
	"net/netip"
	"testing"

	"github.com/stitchnfv/stitch/internal/testenv"
)

var (
	routerV4 = netip.MustParseAddr("10.255.0.1")
	routerV6 = netip.MustParseAddr("fd00:ff::1")
)

// newRouter loads a router for a test and closes it at the end.
func newRouter(tb testing.TB) *Router {
	tb.Helper()
	testenv.RequireRoot(tb)
	r, err := Load(context.Background(), Options{RouterIPv4: routerV4, RouterIPv6: routerV6, ConnTableSize: connTableSize})
	if err != nil {
		testenv.Unavailable(tb, "cannot load the XDP program: "+err.Error())
	}
	tb.Cleanup(func() {
		if err := r.Close(); err != nil {
			tb.Error(err)
		}
	})
	return r
}

func TestLoad(t *testing.T) {
	r := newRouter(t)
	if r.Program() == nil {
		t.Fatal("no program")
	}
}

// connTableSize of test routers; benchmarks may raise it.
var connTableSize uint32 = 4096

package xdp

import (
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/stitchnfv/stitch/internal/namedns/nstest"
)

// testNS creates a named network namespace unique to this test run,
// deleted at cleanup even when the test fails.
func testNS(t testing.TB, role string) (string, netns.NsHandle, *netlink.Handle) {
	t.Helper()
	return nstest.NetNS(t, "xdpt-"+role)
}

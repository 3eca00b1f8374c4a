package xdp

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/stitchnfv/stitch/internal/namedns"
)

// testNS creates a named network namespace unique to this test run,
// deleted at cleanup even when the test fails.
func testNS(t testing.TB, role string) (string, netns.NsHandle, *netlink.Handle) {
	t.Helper()
	must(t, namedns.PrepareDir())
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "xdpt-" + role + "-" + hex.EncodeToString(b)
	h, err := namedns.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Close()
		if err := namedns.Delete(name); err != nil {
			t.Error(err)
		}
	})
	nl, err := netlink.NewHandleAt(h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nl.Close)
	lo, err := nl.LinkByName("lo")
	if err == nil {
		err = nl.LinkSetUp(lo)
	}
	must(t, err)
	return name, h, nl
}

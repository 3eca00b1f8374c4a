// Package nstest creates throwaway network namespaces for tests.
package nstest

import (
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/internal/testenv"
)

// NetNS creates a named network namespace "<prefix>-<random>" with lo up,
// unique to this test run and deleted at cleanup even when the test
// fails; it returns the name, a handle and a netlink socket inside it.
func NetNS(t testing.TB, prefix string) (string, netns.NsHandle, *netlink.Handle) {
	t.Helper()
	testenv.RequireRoot(t)
	if err := namedns.PrepareDir(); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := prefix + "-" + hex.EncodeToString(b)
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
	if err != nil {
		t.Fatal(err)
	}
	return name, h, nl
}

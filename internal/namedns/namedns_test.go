package namedns

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"net"
	"slices"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/stitchnfv/stitch/internal/testenv"
)

func TestLifecycle(t *testing.T) {
	testenv.RequireRoot(t)
	if err := PrepareDir(); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "nsx-" + hex.EncodeToString(b)
	t.Cleanup(func() { _ = Delete(name) })

	h, err := Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, err := Create(name); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second Create: %v, want fs.ErrExist", err)
	}
	if names, err := List("nsx-"); err != nil || !slices.Contains(names, name) {
		t.Fatalf("List = %v, %v; want it to hold %s", names, err, name)
	}
	self, _ := netns.Get()
	defer self.Close()
	// Inside, only lo exists; outside, the caller's namespace is untouched.
	var inside []net.Interface
	if err := DoNamed(name, func() error {
		var err error
		inside, err = net.Interfaces()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(inside) != 1 || inside[0].Name != "lo" {
		t.Fatalf("interfaces inside a new namespace: %v, want only lo", inside)
	}
	id, ok := IDOf(Path(name))
	own, _ := IDOf("/proc/self/ns/net")
	if !ok || id == own {
		t.Fatalf("IDOf(%s) = %v, %t; must differ from the caller's %v", name, id, ok, own)
	}
	if err := Delete(name); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(name); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open after Delete: %v, want fs.ErrNotExist", err)
	}
	if err := Delete(name); err != nil {
		t.Fatalf("Delete of a missing namespace: %v", err)
	}
	if err := DoNamed(name, func() error { return nil }); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("DoNamed in a missing namespace: %v", err)
	}
}

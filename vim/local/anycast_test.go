package local

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/vishvananda/netlink"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/internal/testenv"
	"github.com/stitchnfv/stitch/vim"
)

// TestAnycastAndForwarderPorts: an anycast port gets its service address
// on the instance's loopback and the tunnel decapsulation on its
// interface; a forwarder port's site end gets an XDP program (so that it
// polls XDP frames) and keeps running; a half-given anycast spec is
// refused before anything is created; deleting leaves nothing.
func TestAnycastAndForwarderPorts(t *testing.T) {
	testenv.RequireRoot(t)
	d := newDriver(t)
	n := mustNetwork(t, d, "svc", "10.77.0.0/24", "a")

	_, err := d.CreateInstance(context.Background(), sleeper("half", vim.PortSpec{Name: "data", Network: n.ID, Anycast: []string{"10.77.0.100"}}))
	if !errors.Is(err, vim.ErrInvalid) {
		t.Fatalf("anycast without tunnel sources: %v, want ErrInvalid", err)
	}

	entry := mustCreate(t, d, sleeper("entry", vim.PortSpec{Name: "data", Network: n.ID,
		Anycast: []string{"10.77.0.100"}, TunnelsFrom: []string{"10.77.0.254"}}))
	router := mustCreate(t, d, sleeper("router", vim.PortSpec{Name: "data", Network: n.ID, Forwarder: true}))

	inNS := func(name string, fn func(h *netlink.Handle) error) {
		t.Helper()
		d.mu.Lock()
		ns := d.insts[name].rec.NetNS
		d.mu.Unlock()
		if err := namedns.DoNamed(ns, func() error {
			h, err := netlink.NewHandle()
			if err != nil {
				return err
			}
			defer h.Close()
			return fn(h)
		}); err != nil {
			t.Fatal(err)
		}
	}
	inNS(entry.Name, func(h *netlink.Handle) error {
		lo, err := h.LinkByName("lo")
		if err != nil {
			return err
		}
		addrs, err := h.AddrList(lo, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		found := false
		for _, a := range addrs {
			found = found || a.IP.Equal(net.ParseIP("10.77.0.100"))
		}
		if !found {
			t.Errorf("lo addresses %v: no 10.77.0.100", addrs)
		}
		eth, err := h.LinkByName(entry.Ports[0].Iface)
		if err != nil {
			return err
		}
		if x := eth.Attrs().Xdp; x == nil || !x.Attached {
			t.Errorf("%s: no XDP program (the tunnel decapsulation)", eth.Attrs().Name)
		}
		return nil
	})
	inNS(router.Name, func(h *netlink.Handle) error {
		lo, _ := h.LinkByName("lo")
		if addrs, _ := h.AddrList(lo, netlink.FAMILY_V4); len(addrs) > 1 {
			t.Errorf("a forwarder got anycast addresses: %v", addrs)
		}
		return nil
	})
	d.mu.Lock()
	host := d.insts[router.Name].rec.Ports[0].HostIface
	site := d.sites["a"]
	d.mu.Unlock()
	l, err := site.nl.LinkByName(host)
	if err != nil {
		t.Fatal(err)
	}
	if x := l.Attrs().Xdp; x == nil || !x.Attached {
		t.Errorf("forwarder's site end %s: no XDP program", host)
	}
	for _, name := range []string{entry.Name, router.Name} {
		if err := d.DeleteInstance(context.Background(), name, 0); err != nil {
			t.Fatal(err)
		}
	}
	requireNoLeaks(t, d)
}

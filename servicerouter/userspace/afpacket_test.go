package userspace

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/internal/namedns/nstest"
	"github.com/stitchnfv/stitch/internal/testenv"
	"github.com/stitchnfv/stitch/xdp"
)

// apNS is a namespace of the AF_PACKET test.
type apNS struct {
	name string
	nl   *netlink.Handle
}

func (n apNS) link(t *testing.T, dev string) netlink.Link {
	t.Helper()
	l, err := n.nl.LinkByName(dev)
	apMust(t, err)
	return l
}

func (n apNS) addr(t *testing.T, dev string, cidrs ...string) {
	t.Helper()
	l := n.link(t, dev)
	for _, c := range cidrs {
		a, err := netlink.ParseAddr(c)
		apMust(t, err)
		apMust(t, n.nl.AddrAdd(l, a))
	}
	apMust(t, n.nl.LinkSetUp(l))
}

func (n apNS) route(t *testing.T, dst, gw string) {
	t.Helper()
	_, d, err := net.ParseCIDR(dst)
	apMust(t, err)
	apMust(t, n.nl.RouteAdd(&netlink.Route{Dst: d, Gw: net.ParseIP(gw)}))
}

func apMust(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestServe: client/instance c — router r — instance b. Serve runs on the
// router's r0; a datagram from c to VIP A goes back out of r0 (TX)
// encapsulated to c's instance address, one to VIP B out of r1
// (Redirect) to b. Both must arrive as IPIP from the router's address
// carrying the original datagram, and Serve must return nil when its
// context ends.
func TestServe(t *testing.T) {
	testenv.RequireRoot(t)
	mk := func(role string) apNS {
		name, _, nl := nstest.NetNS(t, "usap-"+role)
		return apNS{name, nl}
	}
	r, c, b := mk("r"), mk("c"), mk("b")
	veth := func(peer apNS, local, remote string) {
		h, err := namedns.Open(peer.name)
		apMust(t, err)
		defer h.Close()
		apMust(t, r.nl.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: local}, PeerName: remote, PeerNamespace: netlink.NsFd(h)}))
	}
	veth(c, "r0", "c0")
	veth(b, "r1", "b1")
	r.addr(t, "r0", "10.79.0.1/24")
	r.addr(t, "r1", "10.79.1.1/24")
	c.addr(t, "c0", "10.79.0.2/24", "10.79.0.3/32")
	c.route(t, "10.79.9.0/24", "10.79.0.1")
	b.addr(t, "b1", "10.79.1.2/24")
	b.route(t, "0.0.0.0/0", "10.79.1.1")

	ctx := context.Background()
	d, err := New(xdp.Options{RouterIPv4: netip.MustParseAddr("10.79.0.1"), ConnTableSize: 64})
	apMust(t, err)
	r1 := r.link(t, "r1").Attrs()
	targets := []struct {
		vip      string
		backend  xdp.Backend
		listenNS apNS
	}{
		{"10.79.9.1", xdp.Backend{Addr: netip.MustParseAddr("10.79.0.3"), NextHopMAC: c.link(t, "c0").Attrs().HardwareAddr}, c},
		{"10.79.9.2", xdp.Backend{Addr: netip.MustParseAddr("10.79.1.2"), NextHopMAC: b.link(t, "b1").Attrs().HardwareAddr, Ifindex: r1.Index}, b},
	}
	got := make(chan string, 16)
	for i, tg := range targets {
		id := uint32(i)
		apMust(t, d.SetBackend(ctx, id, tg.backend))
		apMust(t, d.SetVIP(ctx, xdp.VIP{Addr: netip.MustParseAddr(tg.vip), Port: 53, Proto: xdp.UDP}, xdp.VIPConfig{ID: id, Fallback: xdp.NoBackend}))
		table := make([]uint32, xdp.RingSize)
		for s := range table {
			table[s] = id
		}
		apMust(t, d.SwapTable(ctx, id, table))
		listenIPIP(t, tg.listenNS.name, tg.backend.Addr.String(), got)
	}
	// SetBackend learnt r1's MAC in this test's namespace, not the router's.
	apMust(t, d.SetInterfaceMAC(ctx, r1.Index, r1.HardwareAddr))

	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() {
		served <- namedns.DoNamed(r.name, func() error { return d.Serve(sctx, r.link(t, "r0").Attrs().Index) })
	}()
	var client net.PacketConn
	apMust(t, namedns.DoNamed(c.name, func() (err error) {
		client, err = net.ListenPacket("udp4", "10.79.0.2:0")
		return err
	}))
	t.Cleanup(func() { client.Close() })
	sctx2, stopSending := context.WithCancel(ctx)
	defer stopSending()
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, tg := range targets {
				_, _ = client.WriteTo([]byte("q"), &net.UDPAddr{IP: net.ParseIP(tg.vip), Port: 53})
			}
			select {
			case <-sctx2.Done():
				return
			case <-tick.C:
			}
		}
	}()
	want := map[string]bool{"10.79.9.1 via 10.79.0.3": true, "10.79.9.2 via 10.79.1.2": true}
	timeout := time.After(30 * time.Second)
	for len(want) > 0 {
		select {
		case s := <-got:
			delete(want, s)
		case err := <-served:
			t.Fatalf("Serve returned early: %v", err)
		case <-timeout:
			t.Fatalf("no encapsulated datagram for %v; counters: %+v", want, must2(d.Counters(ctx)))
		}
	}
	stopSending()
	stop()
	if err := <-served; err != nil {
		t.Fatalf("Serve after its context ended: %v", err)
	}
}

func must2[T any](v T, _ error) T { return v }

// listenIPIP reports on got "<inner dst> via <outer dst>" for every IPIP
// packet from the router to addr, in namespace ns, carrying a datagram to
// port 53.
func listenIPIP(t *testing.T, ns, addr string, got chan<- string) {
	t.Helper()
	var conn net.PacketConn
	apMust(t, namedns.DoNamed(ns, func() (err error) {
		conn, err = net.ListenPacket("ip4:4", addr)
		return err
	}))
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			inner := buf[:n] // the kernel strips the outer header
			if from.String() == "10.79.0.1" && n >= 28 && inner[9] == 17 && binary.BigEndian.Uint16(inner[22:]) == 53 {
				got <- fmt.Sprintf("%s via %s", net.IP(inner[16:20]), addr)
			}
		}
	}()
}

package xdp

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/internal/testenv"
	"github.com/stitchnfv/stitch/xdp/decap"
)

// liveNS is one namespace of the live topology.
type liveNS struct {
	name string
	nl   *netlink.Handle
}

func (n liveNS) do(t *testing.T, fn func() error) {
	t.Helper()
	if err := namedns.DoNamed(n.name, fn); err != nil {
		t.Fatal(err)
	}
}

func (n liveNS) sysctl(t *testing.T, kv map[string]string) {
	t.Helper()
	n.do(t, func() error {
		for k, v := range kv {
			if err := os.WriteFile(filepath.Join("/proc/sys", k), []byte(v), 0o644); err != nil {
				return err
			}
		}
		return nil
	})
}

func (n liveNS) link(t *testing.T, name string) netlink.Link {
	t.Helper()
	l, err := n.nl.LinkByName(name)
	must(t, err)
	return l
}

func (n liveNS) addr(t *testing.T, dev, cidr string) {
	t.Helper()
	a, err := netlink.ParseAddr(cidr)
	must(t, err)
	l := n.link(t, dev)
	must(t, n.nl.AddrAdd(l, a))
	must(t, n.nl.LinkSetUp(l))
}

func (n liveNS) route(t *testing.T, dst, gw string) {
	t.Helper()
	_, d, err := net.ParseCIDR(dst)
	must(t, err)
	must(t, n.nl.RouteAdd(&netlink.Route{Dst: d, Gw: net.ParseIP(gw)}))
}

// TestLive: client — router — two backends over veth pairs. The router's
// program runs in native mode on its client-facing veth and redirects
// IPIP-encapsulated SYNs to the backends' veths; the backends strip the
// outer header (an XDP program: this kernel has no ipip device), own the
// VIP on lo and answer the client directly through the router's kernel
// forwarding. Each real TCP connection must land on the backend its
// FlowHash slot names; the split follows the table shares (1/4 : 3/4).
func TestLive(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "ethtool")
	ctx := context.Background()
	r := newRouter(t)
	mk := func(role string) liveNS {
		name, _, nl := testNS(t, role)
		return liveNS{name, nl}
	}
	cl, rt, b1, b2 := mk("cl"), mk("rt"), mk("b1"), mk("b2")
	veth := func(peer liveNS, local, remote string) {
		h, err := namedns.Open(peer.name)
		must(t, err)
		defer h.Close()
		must(t, rt.nl.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: local},
			PeerName: remote, PeerNamespace: netlink.NsFd(h)}))
	}
	veth(cl, "r0", "c0")
	veth(b1, "r1", "e1")
	veth(b2, "r2", "e2")
	off := map[string]string{"net/ipv4/conf/all/rp_filter": "0", "net/ipv4/conf/default/rp_filter": "0"}
	cl.addr(t, "c0", "10.100.0.2/24")
	cl.route(t, "10.0.0.0/24", "10.100.0.1")
	must(t, cl.nl.LinkSetMTU(cl.link(t, "c0"), 1400))
	rt.addr(t, "r0", "10.100.0.1/24")
	rt.addr(t, "r1", "10.101.0.1/24")
	rt.addr(t, "r2", "10.102.0.1/24")
	rt.sysctl(t, map[string]string{"net/ipv4/ip_forward": "1", "net/ipv4/conf/all/rp_filter": "0",
		"net/ipv4/conf/default/rp_filter": "0", "net/ipv4/conf/r1/rp_filter": "0", "net/ipv4/conf/r2/rp_filter": "0"})
	// The router's XDP sees frames before the veth fills in checksums.
	cl.do(t, func() error {
		out, err := exec.Command("ethtool", "-K", "c0", "tx", "off").CombinedOutput()
		if err != nil {
			return fmt.Errorf("ethtool: %v: %s", err, out)
		}
		return nil
	})

	// The backends open the router's tunnels with the instances' program.
	dc, err := decap.Load(context.Background(), []netip.Addr{routerV4})
	must(t, err)
	t.Cleanup(func() { dc.Close() })
	vip := VIP{netip.MustParseAddr("10.0.0.10"), 8080, TCP}
	backends := []liveNS{b1, b2}
	for i, b := range backends {
		dev := fmt.Sprintf("e%d", i+1)
		b.addr(t, dev, fmt.Sprintf("10.10%d.0.2/24", i+1))
		b.route(t, "0.0.0.0/0", fmt.Sprintf("10.10%d.0.1", i+1))
		b.addr(t, "lo", "10.0.0.10/32")
		b.sysctl(t, off)
		b.do(t, func() error {
			l, err := link.AttachXDP(link.XDPOptions{Program: dc.Prog(), Interface: b.link(t, dev).Attrs().Index, Flags: link.XDPDriverMode})
			if err != nil {
				return fmt.Errorf("attach decap: %w", err)
			}
			t.Cleanup(func() { l.Close() })
			ln, err := net.Listen("tcp", "10.0.0.10:8080")
			if err != nil {
				return err
			}
			t.Cleanup(func() { ln.Close() })
			go serve(ln, fmt.Sprint(i+1))
			return nil
		})
		idx := uint32(i + 1)
		peer := b.link(t, dev).Attrs().HardwareAddr
		rt.do(t, func() error {
			return r.SetBackend(ctx, idx, Backend{Addr: netip.MustParseAddr(fmt.Sprintf("10.10%d.0.2", i+1)),
				NextHopMAC: peer, Ifindex: rt.link(t, fmt.Sprintf("r%d", i+1)).Attrs().Index})
		})
	}
	must(t, r.SetVIP(ctx, vip, VIPConfig{ID: 7, Fallback: NoBackend}))
	tab := table(func(s uint32) uint32 {
		if s%4 == 0 {
			return 1
		}
		return 2
	})
	must(t, r.SwapTable(ctx, 7, tab))
	rt.do(t, func() error { return r.Attach(ctx, rt.link(t, "r0").Attrs().Index, true) })

	const conns = 300
	got := map[string]int{}
	cl.do(t, func() error {
		for i := 0; i < conns; i++ {
			c, err := net.DialTimeout("tcp", "10.0.0.10:8080", 3*time.Second)
			if err != nil {
				return fmt.Errorf("connection %d: %w", i, err)
			}
			_ = c.SetDeadline(time.Now().Add(3 * time.Second))
			name, err := io.ReadAll(c)
			local := c.LocalAddr().(*net.TCPAddr).AddrPort()
			c.Close()
			if err != nil {
				return fmt.Errorf("connection %d: %w", i, err)
			}
			want := tab[Slot(FiveTuple{Src: local.Addr().Unmap(), Dst: vip.Addr, SrcPort: local.Port(), DstPort: vip.Port, Proto: TCP})]
			if string(name) != fmt.Sprint(want) {
				return fmt.Errorf("connection %d from %s: answered by backend %q, FlowHash says %d", i, local, name, want)
			}
			got[string(name)]++
		}
		return nil
	})
	t.Logf("%d connections: backend 1 (1/4 of the table) %d, backend 2 (3/4) %d", conns, got["1"], got["2"])
	// Binomial, p = 1/4: sd ~7.5; allow 4 sd.
	if d := got["1"] - conns/4; d < -30 || d > 30 {
		t.Errorf("backend 1 got %d of %d connections, want about %d", got["1"], conns, conns/4)
	}
	c, err := r.Counters(ctx)
	must(t, err)
	if n := c.VIPs[7].NewFlows; n < conns {
		t.Errorf("VIP new flows %d, want at least %d (one per SYN)", n, conns)
	}
}

func serve(ln net.Listener, name string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_, _ = c.Write([]byte(name))
		c.Close()
	}
}

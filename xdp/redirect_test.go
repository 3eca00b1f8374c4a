package xdp

import (
	"context"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/vishvananda/netlink"

	"github.com/stitchnfv/stitch/internal/namedns"
)

// xdpMD is struct xdp_md, the context of a test run.
type xdpMD struct {
	Data, DataEnd, DataMeta, IngressIfindex, RxQueueIndex, EgressIfindex uint32
}

// A backend behind another interface is reached by XDP_REDIRECT with that
// interface's MAC as source; behind the ingress interface, by XDP_TX.
// Also covers IPv4 clients to an IPv6 backend (4in6).
func TestRedirect(t *testing.T) {
	ctx := context.Background()
	r := newRouter(t)
	setup(t, r)
	ns, _, nl := testNS(t, "redir")
	must(t, nl.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "out0"}, PeerName: "out0p"}))
	must(t, nl.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "in0"}, PeerName: "in0p"}))
	out0, err := nl.LinkByName("out0")
	must(t, err)
	in0, err := nl.LinkByName("in0")
	must(t, err)
	for _, l := range []netlink.Link{out0, in0} {
		must(t, nl.LinkSetUp(l))
	}
	b := testBackends()[3]
	b.Ifindex = out0.Attrs().Index
	b6 := testBackends()[17]
	b6.Ifindex = in0.Attrs().Index

	syn := pkt{src: client4, dst: vip4.Addr, sport: 60000, dport: 80, proto: TCP, flags: "S", seq: 9}
	frame := syn.frame(t)
	runIn := func(ingress int) (uint32, []byte) {
		out := make([]byte, len(frame)+512)
		md := xdpMD{DataEnd: uint32(len(frame)), IngressIfindex: uint32(ingress)}
		opts := ebpf.RunOptions{Data: frame, DataOut: out, Context: md}
		ret, err := r.Program().Run(&opts)
		must(t, err)
		return ret, opts.DataOut
	}
	err = namedns.DoNamed(ns, func() error {
		if err := r.SetBackend(ctx, 3, b); err != nil {
			return err
		}
		return r.SetBackend(ctx, 17, b6)
	})
	must(t, err)
	must(t, r.SwapTable(ctx, id4, table(func(uint32) uint32 { return 3 })))

	var act uint32
	var got []byte
	must(t, namedns.DoNamed(ns, func() error { act, got = runIn(in0.Attrs().Index); return nil }))
	if act != xdpRedirect {
		t.Fatalf("verdict %d, want REDIRECT", act)
	}
	want := encapsulated(t, syn, b)
	copy(want[6:12], out0.Attrs().HardwareAddr) // source: the egress interface
	diff(t, "redirected", got, want)

	// Same interface: TX, source = the frame's destination (our MAC).
	must(t, r.SwapTable(ctx, id4, table(func(uint32) uint32 { return 17 })))
	must(t, namedns.DoNamed(ns, func() error { act, got = runIn(in0.Attrs().Index); return nil }))
	if act != xdpTX {
		t.Fatalf("verdict %d, want TX", act)
	}
	want = encapsulated(t, syn, b6)
	diff(t, "4in6 out of the ingress interface", got, want)
	if !b6.Addr.Is6() || !netip.MustParseAddr("fd00:1::17").IsValid() {
		t.Fatal("test backend 17 is not IPv6")
	}
}

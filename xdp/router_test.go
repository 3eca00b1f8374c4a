package xdp

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf"
)

// XDP verdicts.
const (
	xdpAborted  = 0
	xdpDrop     = 1
	xdpPass     = 2
	xdpTX       = 3
	xdpRedirect = 4
)

var (
	client4 = netip.MustParseAddr("192.0.2.7")
	client6 = netip.MustParseAddr("2001:db8::7")

	vip4   = VIP{netip.MustParseAddr("10.0.0.10"), 80, TCP}
	vip4u  = VIP{netip.MustParseAddr("10.0.0.10"), 53, UDP}
	vip6   = VIP{netip.MustParseAddr("fd00::10"), 443, TCP}
	vip6u  = VIP{netip.MustParseAddr("fd00::10"), 443, UDP}
	empty  = VIP{netip.MustParseAddr("10.0.0.20"), 80, TCP}
	emptyU = VIP{netip.MustParseAddr("10.0.0.20"), 53, UDP}
	empty6 = VIP{netip.MustParseAddr("fd00::20"), 80, TCP}
	over   = VIP{netip.MustParseAddr("10.0.0.30"), 80, TCP}
	icmpU  = VIP{netip.MustParseAddr("10.0.0.20"), 5353, UDP}
	icmp6U = VIP{netip.MustParseAddr("fd00::20"), 5353, UDP}
)

const (
	id4, id6, idEmpty, idOver = 1, 2, 3, 4
	fallbackIdx               = 100
)

// testBackends: 0..7 IPv4 (table of id 1), 16..19 IPv6 (id 2), 100 the
// remote overflow route.
func testBackends() map[uint32]Backend {
	m := map[uint32]Backend{}
	for i := uint32(0); i < 8; i++ {
		m[i] = Backend{Addr: netip.AddrFrom4([4]byte{10, 1, 0, byte(10 + i)}),
			NextHopMAC: net.HardwareAddr{0x02, 0xbe, 0, 0, 0, byte(i)}}
	}
	for i := uint32(16); i < 20; i++ {
		m[i] = Backend{Addr: netip.MustParseAddr(fmt.Sprintf("fd00:1::%d", i)),
			NextHopMAC: net.HardwareAddr{0x02, 0xbe, 0, 0, 0, byte(i)}}
	}
	m[fallbackIdx] = Backend{Addr: netip.MustParseAddr("198.51.100.1"),
		NextHopMAC: net.HardwareAddr{0x02, 0xfa, 0, 0, 0, 1}}
	return m
}

func table(f func(slot uint32) uint32) []uint32 {
	t := make([]uint32, RingSize)
	for i := range t {
		t[i] = f(uint32(i))
	}
	return t
}

// setup configures the VIPs, backends and tables above; returns the
// tables by VIP id.
func setup(t testing.TB, r *Router) map[uint32][]uint32 {
	t.Helper()
	ctx := context.Background()
	for idx, b := range testBackends() {
		must(t, r.SetBackend(ctx, idx, b))
	}
	for _, v := range []struct {
		vip VIP
		cfg VIPConfig
	}{
		{vip4, VIPConfig{ID: id4, Fallback: NoBackend}},
		{vip4u, VIPConfig{ID: id4, Fallback: NoBackend}},
		{vip6, VIPConfig{ID: id6, Fallback: NoBackend}},
		{vip6u, VIPConfig{ID: id6, Fallback: NoBackend}},
		{empty, VIPConfig{ID: idEmpty, Fallback: NoBackend}},
		{emptyU, VIPConfig{ID: idEmpty, Fallback: NoBackend}},
		{empty6, VIPConfig{ID: idEmpty, Fallback: NoBackend}},
		{over, VIPConfig{ID: idOver, Fallback: fallbackIdx}},
		{icmpU, VIPConfig{ID: idEmpty, Flags: VIPICMPUnreachable, Fallback: NoBackend}},
		{icmp6U, VIPConfig{ID: idEmpty, Flags: VIPICMPUnreachable, Fallback: NoBackend}},
	} {
		must(t, r.SetVIP(ctx, v.vip, v.cfg))
	}
	tables := map[uint32][]uint32{
		id4:     table(func(s uint32) uint32 { return s % 8 }),
		id6:     table(func(s uint32) uint32 { return 16 + s%4 }),
		idEmpty: table(func(uint32) uint32 { return NoBackend }),
		idOver:  table(func(uint32) uint32 { return NoBackend }),
	}
	for id, tb := range tables {
		must(t, r.SwapTable(ctx, id, tb))
	}
	return tables
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// run passes frame through the program once (ingress: lo).
func run(t testing.TB, prog *ebpf.Program, frame []byte) (uint32, []byte) {
	t.Helper()
	out := make([]byte, len(frame)+512)
	opts := ebpf.RunOptions{Data: frame, DataOut: out}
	ret, err := prog.Run(&opts)
	if err != nil {
		t.Fatalf("run %d-byte frame: %v", len(frame), err)
	}
	return ret, opts.DataOut
}

func diff(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs\n got %d bytes:\n%s\nwant %d bytes:\n%s", what, len(got), hex.Dump(got), len(want), hex.Dump(want))
	}
}

func TestDecisions(t *testing.T) {
	r := newRouter(t)
	tables := setup(t, r)
	be := testBackends()
	to := func(id uint32, p pkt) Backend { return be[tables[id][Slot(p.tuple())]] }

	syn4 := pkt{src: client4, dst: vip4.Addr, sport: 40000, dport: 80, proto: TCP, flags: "S", seq: 1000}
	udp4 := pkt{src: client4, dst: vip4u.Addr, sport: 40001, dport: 53, proto: UDP, payload: []byte("query"), tos: 0x28}
	udp6 := pkt{src: client6, dst: vip6u.Addr, sport: 40002, dport: 443, proto: UDP, payload: []byte("quic"), tos: 0xb8}
	syn6 := pkt{src: client6, dst: vip6.Addr, sport: 40003, dport: 443, proto: TCP, flags: "S", seq: 5}
	vsyn4 := syn4
	vsyn4.vlan, vsyn4.sport = 42, 40004
	vudp6 := udp6
	vudp6.vlan, vudp6.sport = 43, 40005
	other := syn4
	other.dst = netip.MustParseAddr("10.0.0.99")
	otherPort := syn4
	otherPort.dport = 8080
	opts := syn4
	opts.ipOptions = true
	frag := udp4
	frag.mf = true
	frag2 := udp4
	frag2.fragOffset = 100
	hbh := udp6
	hbh.hopByHop = true
	mapped := pkt{src: client6, dst: netip.AddrFrom16(vip4.Addr.As16()), sport: 40010, dport: 80, proto: TCP, flags: "S", seq: 1}
	emptySyn := pkt{src: client4, dst: empty.Addr, sport: 41000, dport: 80, proto: TCP, flags: "S", seq: 77}
	emptyData := pkt{src: client4, dst: empty.Addr, sport: 41001, dport: 80, proto: TCP, flags: "PA", seq: 78, ack: 999, payload: []byte("GET /")}
	emptyFin := pkt{src: client4, dst: empty.Addr, sport: 41002, dport: 80, proto: TCP, flags: "F", seq: 10, payload: []byte("xy")}
	emptyRst := pkt{src: client4, dst: empty.Addr, sport: 41003, dport: 80, proto: TCP, flags: "R", seq: 10}
	emptyVlan6 := pkt{src: client6, dst: empty6.Addr, sport: 41004, dport: 80, proto: TCP, flags: "S", seq: 0xfffffff0, vlan: 7}
	emptyUDP := pkt{src: client4, dst: emptyU.Addr, sport: 41005, dport: 53, proto: UDP, payload: []byte("q")}
	unreach4 := pkt{src: client4, dst: icmpU.Addr, sport: 41007, dport: 5353, proto: UDP, payload: []byte("question?")}
	unreach6 := pkt{src: client6, dst: icmp6U.Addr, sport: 41008, dport: 5353, proto: UDP, vlan: 12, payload: []byte("q6")}
	unreach4short := unreach4
	unreach4short.payload = nil
	overSyn := pkt{src: client4, dst: over.Addr, sport: 41006, dport: 80, proto: TCP, flags: "S", seq: 1}

	cases := []struct {
		name string
		p    pkt
		act  uint32
		want func() []byte // nil: output == input
	}{
		{"ipv4 tcp syn", syn4, xdpTX, func() []byte { return encapsulated(t, syn4, to(id4, syn4)) }},
		{"ipv4 udp", udp4, xdpTX, func() []byte { return encapsulated(t, udp4, to(id4, udp4)) }},
		{"ipv6 udp", udp6, xdpTX, func() []byte { return encapsulated(t, udp6, to(id6, udp6)) }},
		{"ipv6 tcp syn", syn6, xdpTX, func() []byte { return encapsulated(t, syn6, to(id6, syn6)) }},
		{"vlan ipv4 tcp syn", vsyn4, xdpTX, func() []byte { return encapsulated(t, vsyn4, to(id4, vsyn4)) }},
		{"vlan ipv6 udp", vudp6, xdpTX, func() []byte { return encapsulated(t, vudp6, to(id6, vudp6)) }},
		{"not a vip address", other, xdpPass, nil},
		{"vip address other port", otherPort, xdpPass, nil},
		{"ipv4 options", opts, xdpPass, nil},
		{"ipv4 first fragment", frag, xdpPass, nil},
		{"ipv4 later fragment", frag2, xdpPass, nil},
		{"ipv6 hop-by-hop", hbh, xdpPass, nil},
		{"ipv6 to an IPv4-mapped VIP address", mapped, xdpPass, nil},
		{"no backend syn", emptySyn, xdpTX, func() []byte { return reset(t, emptySyn) }},
		{"no backend data", emptyData, xdpTX, func() []byte { return reset(t, emptyData) }},
		{"no backend fin", emptyFin, xdpTX, func() []byte { return reset(t, emptyFin) }},
		{"no backend rst", emptyRst, xdpDrop, nil},
		{"no backend vlan ipv6 syn", emptyVlan6, xdpTX, func() []byte { return reset(t, emptyVlan6) }},
		{"no backend udp", emptyUDP, xdpDrop, nil},
		{"no backend udp icmp", unreach4, xdpTX, func() []byte { return unreachable(t, unreach4) }},
		{"no backend udp icmp empty payload", unreach4short, xdpTX, func() []byte { return unreachable(t, unreach4short) }},
		{"no backend vlan udp icmpv6", unreach6, xdpTX, func() []byte { return unreachable(t, unreach6) }},
		{"overflow to fallback", overSyn, xdpTX, func() []byte { return encapsulated(t, overSyn, be[fallbackIdx]) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.p.frame(t)
			act, out := run(t, r.Program(), in)
			if act != c.act {
				t.Fatalf("verdict %d, want %d", act, c.act)
			}
			want := in
			if c.want != nil {
				want = c.want()
			}
			diff(t, "output", out, want)
		})
	}

	cn, err := r.Counters(context.Background())
	must(t, err)
	if g := cn.Global; g.OptionsOrFragments != 3 || g.IPv6ExtHeaders != 1 || g.Truncated != 0 {
		t.Errorf("global counters %+v, want 3 options/fragments, 1 extension header", g)
	}
	if c := cn.VIPs[idEmpty]; c.Refused != 9 || c.Packets != 9 {
		t.Errorf("VIP %d counters %+v, want 9 packets refused", idEmpty, c)
	}
	if c := cn.VIPs[id4]; c.Packets != 3 || c.NewFlows != 3 {
		t.Errorf("VIP %d counters %+v, want 3 packets, 3 new flows", id4, c)
	}
	if c := cn.Backends[fallbackIdx]; c.Packets != 1 || c.NewFlows != 1 || c.Bytes != uint64(len(overSyn.frame(t))) {
		t.Errorf("fallback backend counters %+v", c)
	}
}

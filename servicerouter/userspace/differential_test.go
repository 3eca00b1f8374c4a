package userspace

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"reflect"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/vishvananda/netlink"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/internal/namedns/nstest"
	"github.com/stitchnfv/stitch/internal/testenv"
	"github.com/stitchnfv/stitch/xdp"
)

var (
	routerV4 = netip.MustParseAddr("10.255.0.1")
	routerV6 = netip.MustParseAddr("fd00:ff::1")
	opts     = xdp.Options{RouterIPv4: routerV4, RouterIPv6: routerV6, ConnTableSize: 65536}
)

// xdpMD is struct xdp_md, the context of a test run.
type xdpMD struct {
	Data, DataEnd, DataMeta, IngressIfindex, RxQueueIndex, EgressIfindex uint32
}

// loadXDP loads the XDP router, or skips (fails under CI=true).
func loadXDP(tb testing.TB) *xdp.Router {
	tb.Helper()
	testenv.RequireRoot(tb)
	r, err := xdp.Load(context.Background(), opts)
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

// testNS creates a network namespace with lo and two veth interfaces,
// deleted at cleanup; returns its name and the veths' ifindexes.
func testNS(t testing.TB) (string, int, int) {
	t.Helper()
	name, _, nl := nstest.NetNS(t, "usdp")
	var idx []int
	for _, n := range []string{"d0", "d1"} {
		if err := nl.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: n}, PeerName: n + "p"}); err != nil {
			t.Fatal(err)
		}
		l, err := nl.LinkByName(n)
		if err == nil {
			err = nl.LinkSetUp(l)
		}
		if err != nil {
			t.Fatal(err)
		}
		idx = append(idx, l.Attrs().Index)
	}
	return name, idx[0], idx[1]
}

// planes applies every configuration change to both data planes.
type planes struct {
	x *xdp.Router
	u *Dataplane
}

func (p planes) do(what string, fx, fu func(context.Context) error) error {
	ctx := context.Background()
	ex, eu := fx(ctx), fu(ctx)
	if (ex == nil) != (eu == nil) {
		return fmt.Errorf("%s: xdp error %v, userspace error %v", what, ex, eu)
	}
	return nil
}

func (p planes) setVIP(v xdp.VIP, c xdp.VIPConfig) error {
	return p.do("set VIP", func(ctx context.Context) error { return p.x.SetVIP(ctx, v, c) },
		func(ctx context.Context) error { return p.u.SetVIP(ctx, v, c) })
}

func (p planes) deleteVIP(v xdp.VIP) error {
	return p.do("delete VIP", func(ctx context.Context) error { return p.x.DeleteVIP(ctx, v) },
		func(ctx context.Context) error { return p.u.DeleteVIP(ctx, v) })
}

func (p planes) setBackend(i uint32, b xdp.Backend) error {
	return p.do("set backend", func(ctx context.Context) error { return p.x.SetBackend(ctx, i, b) },
		func(ctx context.Context) error { return p.u.SetBackend(ctx, i, b) })
}

func (p planes) deleteBackend(i uint32) error {
	return p.do("delete backend", func(ctx context.Context) error { return p.x.DeleteBackend(ctx, i) },
		func(ctx context.Context) error { return p.u.DeleteBackend(ctx, i) })
}

func (p planes) swap(id uint32, t []uint32) error {
	return p.do("swap table", func(ctx context.Context) error { return p.x.SwapTable(ctx, id, t) },
		func(ctx context.Context) error { return p.u.SwapTable(ctx, id, t) })
}

func (p planes) update(id uint32, e map[uint32]uint32) error {
	return p.do("update entries", func(ctx context.Context) error { return p.x.UpdateEntries(ctx, id, e) },
		func(ctx context.Context) error { return p.u.UpdateEntries(ctx, id, e) })
}

func (p planes) deleteTable(id uint32) error {
	return p.do("delete table", func(ctx context.Context) error { return p.x.DeleteTable(ctx, id) },
		func(ctx context.Context) error { return p.u.DeleteTable(ctx, id) })
}

func (p planes) setMAC(ifindex int, mac net.HardwareAddr) error {
	return p.do("set interface MAC", func(ctx context.Context) error { return p.x.SetInterfaceMAC(ctx, ifindex, mac) },
		func(ctx context.Context) error { return p.u.SetInterfaceMAC(ctx, ifindex, mac) })
}

type vipDef struct {
	vip xdp.VIP
	cfg xdp.VIPConfig
}

const (
	idMain4, idMain6, idEmpty, idOver, idBypass, idNoTable = 1, 2, 3, 4, 5, 6
	fallback4, fallback6                                   = 2000, 2001
)

func vip(a string, port uint16, proto xdp.Proto) xdp.VIP {
	return xdp.VIP{Addr: netip.MustParseAddr(a), Port: port, Proto: proto}
}

var vipDefs = []vipDef{
	{vip("10.0.0.10", 80, xdp.TCP), xdp.VIPConfig{ID: idMain4, Fallback: xdp.NoBackend}},
	{vip("10.0.0.10", 53, xdp.UDP), xdp.VIPConfig{ID: idMain4, Fallback: xdp.NoBackend}},
	{vip("fd00::10", 443, xdp.TCP), xdp.VIPConfig{ID: idMain6, Fallback: xdp.NoBackend}},
	{vip("fd00::10", 443, xdp.UDP), xdp.VIPConfig{ID: idMain6, Fallback: xdp.NoBackend}},
	{vip("10.0.0.30", 80, xdp.TCP), xdp.VIPConfig{ID: idOver, Fallback: fallback4}},
	{vip("fd00::30", 53, xdp.UDP), xdp.VIPConfig{ID: idOver, Fallback: fallback6}},
	{vip("10.0.0.20", 80, xdp.TCP), xdp.VIPConfig{ID: idEmpty, Fallback: xdp.NoBackend}},
	{vip("fd00::20", 80, xdp.TCP), xdp.VIPConfig{ID: idEmpty, Fallback: xdp.NoBackend}},
	{vip("10.0.0.20", 53, xdp.UDP), xdp.VIPConfig{ID: idEmpty, Flags: xdp.VIPICMPUnreachable, Fallback: xdp.NoBackend}},
	{vip("fd00::20", 53, xdp.UDP), xdp.VIPConfig{ID: idEmpty, Flags: xdp.VIPICMPUnreachable, Fallback: xdp.NoBackend}},
	{vip("10.0.0.20", 54, xdp.UDP), xdp.VIPConfig{ID: idEmpty, Fallback: xdp.NoBackend}},
	{vip("10.0.0.40", 80, xdp.TCP), xdp.VIPConfig{ID: idBypass, Flags: xdp.VIPNoConnTable, Fallback: xdp.NoBackend}},
	{vip("fd00::40", 53, xdp.UDP), xdp.VIPConfig{ID: idBypass, Flags: xdp.VIPNoConnTable, Fallback: xdp.NoBackend}},
	{vip("10.0.0.50", 80, xdp.TCP), xdp.VIPConfig{ID: idNoTable, Fallback: xdp.NoBackend}},
}

// backendIdx are the backends of the random tables: IPv4 and IPv6, out of
// the ingress interface, lo, d0 or d1.
var backendIdx = []uint32{1, 2, 3, 4, 5, 6, 7, 4095, 100, 101, 102, 103}

func makeBackend(rng *rand.Rand, i uint32, ifs []int) xdp.Backend {
	b := xdp.Backend{NextHopMAC: net.HardwareAddr{0x02, 0xbe, byte(i >> 8), byte(i), byte(rng.Uint32()), 1},
		Ifindex: ifs[rng.IntN(len(ifs))]}
	if i >= 100 && i < 2000 || i == fallback6 {
		b.Addr = netip.AddrFrom16([16]byte{0xfd, 0, 0, 1, 14: byte(i >> 8), 15: byte(i)})
	} else {
		b.Addr = netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
	}
	return b
}

func randomTable(rng *rand.Rand, none float64) []uint32 {
	t := make([]uint32, xdp.RingSize)
	for i := range t {
		if rng.Float64() < none {
			t[i] = xdp.NoBackend
		} else {
			t[i] = backendIdx[rng.IntN(len(backendIdx))]
		}
	}
	return t
}

// gen makes random frames.
type gen struct {
	rng     *rand.Rand
	clients []netip.Addr
	flows   []flowSpec
}

// flowSpec is what a random frame is made of.
type flowSpec struct {
	src, dst     netip.Addr
	sport, dport uint16
	proto        uint8
}

func (g *gen) spec() flowSpec {
	r := g.rng
	if len(g.flows) > 0 && r.IntN(4) == 0 {
		return g.flows[r.IntN(len(g.flows))]
	}
	var s flowSpec
	v := vipDefs[r.IntN(len(vipDefs))].vip
	s.dst, s.dport, s.proto = v.Addr, v.Port, uint8(v.Proto)
	switch r.IntN(20) {
	case 0: // VIP address, other port
		s.dport = uint16(r.Uint32())
	case 1: // other protocol
		s.proto = uint8(v.Proto) ^ (protoTCP ^ protoUDP)
	case 2: // not a VIP address
		if v.Addr.Is4() {
			s.dst = netip.AddrFrom4([4]byte{10, 0, 0, byte(r.Uint32())})
		} else {
			s.dst = netip.AddrFrom16([16]byte{0xfd, 15: byte(r.Uint32())})
		}
	case 3: // neither TCP nor UDP
		s.proto = []uint8{1, 58, 47, 132}[r.IntN(4)]
	}
	for {
		c := g.clients[r.IntN(len(g.clients))]
		if c.Is4() == s.dst.Is4() {
			s.src = c
			break
		}
	}
	if r.IntN(40) == 0 && s.dst.Is4() { // IPv6 packet to the IPv4-mapped VIP
		s.dst = netip.AddrFrom16(s.dst.As16())
		s.src = netip.AddrFrom16(s.src.As16())
	}
	s.sport = uint16(1024 + r.IntN(64))
	if r.IntN(2) == 0 {
		s.sport = uint16(r.Uint32())
	}
	g.flows = append(g.flows, s)
	return s
}

var tcpFlagSets = []uint8{0x02, 0x02, 0x12, 0x10, 0x10, 0x18, 0x01, 0x11, 0x04, 0x14, 0x03, 0x06, 0x00}

// frameOf builds a frame of s with flags (TCP), random details and, with
// mangle, random damage.
func (g *gen) frameOf(s flowSpec, flags uint8, mangle bool) []byte {
	r := g.rng
	is6 := !s.dst.Unmap().Is4() || s.dst.Is4In6()
	var ls []gopacket.SerializableLayer
	et := layers.EthernetTypeIPv4
	if is6 {
		et = layers.EthernetTypeIPv6
	}
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0x02, 0, 0, 0, byte(r.Uint32()), 1},
		DstMAC: net.HardwareAddr{0x02, 0, 0, 0, 0, byte(r.Uint32())}, EthernetType: et}
	vlan := r.IntN(5) == 0
	if vlan {
		eth.EthernetType = layers.EthernetTypeDot1Q
		ls = append(ls, eth, &layers.Dot1Q{Priority: uint8(r.IntN(8)), DropEligible: r.IntN(2) == 0,
			VLANIdentifier: uint16(r.IntN(4096)), Type: et})
	} else {
		ls = append(ls, eth)
	}
	var nl gopacket.NetworkLayer
	proto := layers.IPProtocol(s.proto)
	if !is6 {
		ip := &layers.IPv4{Version: 4, TOS: uint8(r.Uint32()), TTL: uint8(r.Uint32()), Id: uint16(r.Uint32()),
			Protocol: proto, SrcIP: s.src.AsSlice(), DstIP: s.dst.AsSlice()}
		if r.IntN(2) == 0 {
			ip.Flags = layers.IPv4DontFragment
		}
		if mangle {
			switch r.IntN(8) {
			case 0:
				ip.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
			case 1:
				ip.Flags |= layers.IPv4MoreFragments
			case 2:
				ip.FragOffset = uint16(1 + r.IntN(100))
			}
		}
		ls, nl = append(ls, ip), ip
	} else {
		ip := &layers.IPv6{Version: 6, TrafficClass: uint8(r.Uint32()), FlowLabel: r.Uint32() & 0xfffff,
			HopLimit: uint8(r.Uint32()), NextHeader: proto, SrcIP: s.src.AsSlice(), DstIP: s.dst.AsSlice()}
		ls, nl = append(ls, ip), ip
		if mangle && r.IntN(6) == 0 {
			hbh := &layers.IPv6HopByHop{}
			hbh.NextHeader = proto
			hbh.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: make([]byte, 4)}}
			ls = append(ls, hbh)
		}
	}
	switch s.proto {
	case protoTCP:
		tc := &layers.TCP{SrcPort: layers.TCPPort(s.sport), DstPort: layers.TCPPort(s.dport),
			Seq: r.Uint32(), Ack: r.Uint32(), Window: uint16(r.Uint32()), Urgent: uint16(r.Uint32())}
		tc.FIN, tc.SYN, tc.RST = flags&0x01 != 0, flags&0x02 != 0, flags&0x04 != 0
		tc.PSH, tc.ACK, tc.URG = flags&0x08 != 0, flags&0x10 != 0, flags&0x20 != 0
		switch r.IntN(4) {
		case 0:
			tc.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}}}
		case 1: // garbage the router must not care about
			tc.Options = []layers.TCPOption{{OptionType: 0x42, OptionLength: 0, OptionData: []byte{byte(r.Uint32()), byte(r.Uint32())}}}
		}
		_ = tc.SetNetworkLayerForChecksum(nl)
		ls = append(ls, tc)
	case protoUDP:
		u := &layers.UDP{SrcPort: layers.UDPPort(s.sport), DstPort: layers.UDPPort(s.dport)}
		_ = u.SetNetworkLayerForChecksum(nl)
		ls = append(ls, u)
	default:
		ls = append(ls, gopacket.Payload([]byte{8, 0, 0, 0, 0, 0, 0, 0}))
	}
	payload := make([]byte, []int{0, 0, 1, 5, 13, 64, 300}[r.IntN(7)])
	for i := range payload {
		payload[i] = byte(r.Uint32())
	}
	ls = append(ls, gopacket.Payload(payload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		panic(err)
	}
	f := buf.Bytes()
	off := ethLen
	if vlan {
		off += vlanLen
	}
	// Cut gopacket's Ethernet padding, then maybe add some of ours.
	if is6 {
		f = f[:off+ip6Len+int(be16(f[off+4:]))]
	} else {
		f = f[:off+int(be16(f[off+2:]))]
	}
	if r.IntN(5) == 0 {
		for n := 1 + r.IntN(20); n > 0; n-- {
			f = append(f, byte(r.Uint32()))
		}
	}
	if !mangle {
		return f
	}
	ip := f[off:]
	l4 := off + ip4Len
	if is6 {
		l4 = off + ip6Len
	}
	switch r.IntN(14) {
	case 0: // IP length beyond the frame
		if is6 {
			binary.BigEndian.PutUint16(ip[4:], be16(ip[4:])+uint16(1+r.IntN(8)))
		} else {
			binary.BigEndian.PutUint16(ip[2:], be16(ip[2:])+uint16(1+r.IntN(8)))
		}
	case 1: // IP length short of the L4 header
		if is6 {
			binary.BigEndian.PutUint16(ip[4:], uint16(r.IntN(20)))
		} else {
			binary.BigEndian.PutUint16(ip[2:], uint16(r.IntN(40)))
		}
	case 2: // wrong version
		ip[0] = ip[0]&0x0f | byte(r.IntN(16))<<4
	case 3: // IHL
		if !is6 {
			ip[0] = ip[0]&0xf0 | byte(r.IntN(16))
		} else {
			ip[6] = []byte{0, 43, 44, 50, 51, 60, 135, 139, 140, 59}[r.IntN(10)]
		}
	case 4: // TCP data offset
		if s.proto == protoTCP && len(f) > l4+12 {
			f[l4+12] = byte(r.IntN(16)) << 4
		}
	case 5, 6, 7: // truncated
		f = f[:ethLen+r.IntN(len(f)-ethLen)]
	case 8: // QinQ or a second tag
		if r.IntN(2) == 0 {
			binary.BigEndian.PutUint16(f[12:], 0x88a8)
		} else if vlan {
			binary.BigEndian.PutUint16(f[16:], etherDot1Q)
		}
	case 9: // another EtherType or an 802.3 length
		binary.BigEndian.PutUint16(f[12:], []uint16{0x0806, 0x0040, 0x86dd, 0x0800}[r.IntN(4)])
	}
	return f
}

// mismatch describes the first difference between the data planes.
func mismatch(what string, in []byte, ingress int, xa uint32, xout []byte, uv Verdict, uout []byte) error {
	at := 0
	for at < len(xout) && at < len(uout) && xout[at] == uout[at] {
		at++
	}
	return fmt.Errorf("%s (ingress %d): XDP %s, userspace %s; first differing byte at %d\ninput %d bytes:\n%s\nXDP output %d bytes:\n%s\nuserspace output %d bytes:\n%s",
		what, ingress, Action(xa), uv, at, len(in), hex.Dump(in), len(xout), hex.Dump(xout), len(uout), hex.Dump(uout))
}

// TestDifferential feeds the XDP program and the userspace data plane the
// same random frames under the same tables and compares verdicts, output
// frames and counters.
func TestDifferential(t *testing.T) {
	x := loadXDP(t)
	u, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ns, d0, d1 := testNS(t)
	const rounds, perRound, replays = 8, 3000, 300
	var stats [5]int
	var replayed int
	err = namedns.DoNamed(ns, func() error {
		p := planes{x, u}
		rng := rand.New(rand.NewPCG(20240601, 7))
		ingresses := []int{1, d0, d1}
		backendIfs := []int{0, 0, 1, d0, d1}
		for _, i := range append(append([]uint32(nil), backendIdx...), fallback4, fallback6) {
			if err := p.setBackend(i, makeBackend(rng, i, backendIfs)); err != nil {
				return err
			}
		}
		if err := p.setMAC(d1, net.HardwareAddr{0x02, 0xd1, 0, 0, 0, 1}); err != nil {
			return err
		}
		for _, v := range vipDefs {
			if err := p.setVIP(v.vip, v.cfg); err != nil {
				return err
			}
		}
		empty := make([]uint32, xdp.RingSize)
		for i := range empty {
			empty[i] = xdp.NoBackend
		}
		for id, tb := range map[uint32][]uint32{idMain4: randomTable(rng, 0.1), idMain6: randomTable(rng, 0.1),
			idBypass: randomTable(rng, 0.1), idOver: randomTable(rng, 0.9), idEmpty: empty} {
			if err := p.swap(id, tb); err != nil {
				return err
			}
		}
		g := &gen{rng: rng}
		for i := 0; i < 64; i++ {
			g.clients = append(g.clients, netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}),
				netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)}))
		}
		out := make([]byte, 4096)
		feed := func(what string, f []byte) error {
			ingress := ingresses[rng.IntN(len(ingresses))]
			in := append([]byte(nil), f...)
			o := ebpf.RunOptions{Data: in, DataOut: out, Context: xdpMD{DataEnd: uint32(len(in)), IngressIfindex: uint32(ingress)}}
			xa, err := x.Program().Run(&o)
			if err != nil {
				return fmt.Errorf("XDP run of %d bytes: %w", len(in), err)
			}
			uv, uout := u.Process(f, ingress)
			if !bytes.Equal(f, in) {
				return errors.New("userspace changed its input frame")
			}
			if Action(xa) != uv.Action || !bytes.Equal(o.DataOut, uout) {
				return mismatch(what, f, ingress, xa, o.DataOut, uv, uout)
			}
			if uv.Action == Redirect && uv.Egress != d0 && uv.Egress != d1 && uv.Egress != 1 || uv.Action == TX && uv.Egress != ingress {
				return fmt.Errorf("%s: verdict %s from ingress %d", what, uv, ingress)
			}
			stats[xa]++
			return nil
		}
		for round := 0; round < rounds; round++ {
			for i := 0; i < perRound; i++ {
				s := g.spec()
				f := g.frameOf(s, tcpFlagSets[rng.IntN(len(tcpFlagSets))], rng.IntN(4) == 0)
				if len(f) < ethLen {
					continue
				}
				if err := feed(fmt.Sprintf("round %d frame %d", round, i), f); err != nil {
					return err
				}
			}
			// Change the tables, then replay known flows: a SYN, then
			// ACKs and data; UDP twice.
			switch round % 4 {
			case 0:
				if err := p.swap(idMain4, randomTable(rng, 0.2)); err != nil {
					return err
				}
				if err := p.swap(idMain6, randomTable(rng, 0.05)); err != nil {
					return err
				}
			case 1:
				e := map[uint32]uint32{}
				for i := 0; i < 2000; i++ {
					e[uint32(rng.IntN(xdp.RingSize))] = backendIdx[rng.IntN(len(backendIdx))]
				}
				for _, id := range []uint32{idMain4, idMain6, idBypass, idOver} {
					if err := p.update(id, e); err != nil {
						return err
					}
				}
				if err := p.update(idNoTable, e); err != nil {
					return err
				}
			case 2:
				for _, i := range []uint32{2, 101, fallback4} {
					if err := p.deleteBackend(i); err != nil {
						return err
					}
				}
				if err := p.setVIP(vipDefs[0].vip, xdp.VIPConfig{ID: idMain4, Flags: xdp.VIPNoConnTable, Fallback: 7}); err != nil {
					return err
				}
				if err := p.deleteVIP(vipDefs[3].vip); err != nil {
					return err
				}
			case 3:
				for _, i := range []uint32{2, 101, fallback4} {
					if err := p.setBackend(i, makeBackend(rng, i, backendIfs)); err != nil {
						return err
					}
				}
				if err := p.setVIP(vipDefs[0].vip, vipDefs[0].cfg); err != nil {
					return err
				}
				if err := p.setVIP(vipDefs[3].vip, vipDefs[3].cfg); err != nil {
					return err
				}
				if err := p.swap(idBypass, randomTable(rng, 0.3)); err != nil {
					return err
				}
				if err := p.deleteTable(idOver); err != nil {
					return err
				}
				if err := p.swap(idOver, randomTable(rng, 0.9)); err != nil {
					return err
				}
			}
			for i := 0; i < replays; i++ {
				s := g.flows[rng.IntN(len(g.flows))]
				for k, flags := range []uint8{0x02, 0x10, 0x18, 0x10, 0x11} {
					if s.proto != protoTCP && k > 1 {
						break
					}
					if err := feed(fmt.Sprintf("round %d replay %d packet %d", round, i, k), g.frameOf(s, flags, false)); err != nil {
						return err
					}
					replayed++
				}
			}
			cx, err := x.Counters(context.Background())
			if err != nil {
				return err
			}
			cu, _ := u.Counters(context.Background())
			if !reflect.DeepEqual(cx, cu) {
				return fmt.Errorf("after round %d counters differ:\n XDP       %+v\n userspace %+v", round, cx, cu)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := u.Counters(context.Background())
	t.Logf("%d frames (%d replayed) agree: DROP %d, PASS %d, TX %d, REDIRECT %d; %d connections; global %+v",
		stats[1]+stats[2]+stats[3]+stats[4], replayed, stats[1], stats[2], stats[3], stats[4], u.Connections(), c.Global)
	for a := 1; a <= 4; a++ {
		if stats[a] == 0 {
			t.Errorf("no frame got %s", Action(a))
		}
	}
	if c.Global.Truncated == 0 || c.Global.OptionsOrFragments == 0 || c.Global.IPv6ExtHeaders == 0 {
		t.Errorf("some PASS rule was not exercised: %+v", c.Global)
	}
}

package xdp

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

var (
	clientMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	routerMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0xfe}
)

// pkt describes a test packet from a client.
type pkt struct {
	src, dst     netip.Addr
	sport, dport uint16
	proto        Proto
	vlan         uint16 // 0: untagged
	flags        string // TCP flags: S, A, R, F, P
	seq, ack     uint32
	payload      []byte
	ipOptions    bool
	mf           bool
	fragOffset   uint16
	hopByHop     bool
	tos          uint8
}

func (p pkt) tuple() FiveTuple {
	return FiveTuple{Src: p.src, Dst: p.dst, SrcPort: p.sport, DstPort: p.dport, Proto: p.proto}
}

// serialize builds a frame without Ethernet padding (the router neither adds
// nor expects it), so lengths compare exactly.
func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	// Cut gopacket's padding to 60 bytes: keep L2 header + IP length.
	off := 14
	etype := binary.BigEndian.Uint16(b[12:])
	if etype == 0x8100 {
		etype = binary.BigEndian.Uint16(b[16:])
		off = 18
	}
	switch etype {
	case 0x0800:
		return b[:off+int(binary.BigEndian.Uint16(b[off+2:]))]
	case 0x86dd:
		return b[:off+40+int(binary.BigEndian.Uint16(b[off+4:]))]
	}
	return b
}

// l2 returns the Ethernet (and VLAN) layers for an IP packet of family v6.
func l2(src, dst net.HardwareAddr, vlan uint16, v6 bool) []gopacket.SerializableLayer {
	et := layers.EthernetTypeIPv4
	if v6 {
		et = layers.EthernetTypeIPv6
	}
	if vlan == 0 {
		return []gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: et}}
	}
	return []gopacket.SerializableLayer{
		&layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: vlan, Type: et},
	}
}

func (p pkt) ipLayer() (gopacket.SerializableLayer, gopacket.NetworkLayer) {
	proto := layers.IPProtocol(p.proto)
	if p.src.Is4() {
		ip := &layers.IPv4{Version: 4, IHL: 5, TOS: p.tos, TTL: 64, Protocol: proto,
			SrcIP: p.src.AsSlice(), DstIP: p.dst.AsSlice(), Id: 7, FragOffset: p.fragOffset}
		if p.mf {
			ip.Flags = layers.IPv4MoreFragments
		}
		if p.ipOptions {
			ip.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
		}
		return ip, ip
	}
	ip := &layers.IPv6{Version: 6, TrafficClass: p.tos, HopLimit: 64, NextHeader: proto,
		SrcIP: p.src.AsSlice(), DstIP: p.dst.AsSlice()}
	if p.hopByHop {
		ip.NextHeader = layers.IPProtocolIPv6HopByHop
	}
	return ip, ip
}

func (p pkt) l4(nl gopacket.NetworkLayer) gopacket.SerializableLayer {
	if p.proto == UDP {
		u := &layers.UDP{SrcPort: layers.UDPPort(p.sport), DstPort: layers.UDPPort(p.dport)}
		_ = u.SetNetworkLayerForChecksum(nl)
		return u
	}
	tc := &layers.TCP{SrcPort: layers.TCPPort(p.sport), DstPort: layers.TCPPort(p.dport),
		Seq: p.seq, Ack: p.ack, Window: 1024}
	for _, f := range p.flags {
		switch f {
		case 'S':
			tc.SYN = true
		case 'A':
			tc.ACK = true
		case 'R':
			tc.RST = true
		case 'F':
			tc.FIN = true
		case 'P':
			tc.PSH = true
		}
	}
	if tc.SYN {
		tc.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}}}
	}
	_ = tc.SetNetworkLayerForChecksum(nl)
	return tc
}

// frame is the client's frame to the router.
func (p pkt) frame(t testing.TB) []byte {
	t.Helper()
	ls := l2(clientMAC, routerMAC, p.vlan, p.src.Is6())
	ipl, nl := p.ipLayer()
	ls = append(ls, ipl)
	if ip6, ok := ipl.(*layers.IPv6); ok && p.hopByHop {
		hbh := &layers.IPv6HopByHop{}
		hbh.NextHeader = layers.IPProtocol(p.proto)
		hbh.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: make([]byte, 4)}}
		_ = ip6
		ls = append(ls, hbh)
	}
	ls = append(ls, p.l4(nl), gopacket.Payload(p.payload))
	return serialize(t, ls...)
}

// ipBytes is the client's IP packet (what the backend receives inside).
func (p pkt) ipBytes(t testing.TB) []byte {
	f := p.frame(t)
	if p.vlan != 0 {
		return f[18:]
	}
	return f[14:]
}

// encapsulated is the frame the router sends to backend b.
func encapsulated(t testing.TB, p pkt, b Backend) []byte {
	t.Helper()
	inner := p.ipBytes(t)
	ls := l2(routerMAC, b.NextHopMAC, 0, b.Addr.Is6())
	innerProto := layers.IPProtocolIPv4
	if p.src.Is6() {
		innerProto = layers.IPProtocolIPv6
	}
	if b.Addr.Is4() {
		ls = append(ls, &layers.IPv4{Version: 4, IHL: 5, TOS: p.tos, TTL: 64, Protocol: innerProto,
			SrcIP: routerV4.AsSlice(), DstIP: b.Addr.AsSlice()})
	} else {
		ls = append(ls, &layers.IPv6{Version: 6, TrafficClass: p.tos, HopLimit: 64, NextHeader: innerProto,
			SrcIP: routerV6.AsSlice(), DstIP: b.Addr.AsSlice()})
	}
	return serialize(t, append(ls, gopacket.Payload(inner))...)
}

// reset is the RST the router answers p with (RFC 9293 3.10.7.1).
func reset(t testing.TB, p pkt) []byte {
	t.Helper()
	ls := l2(routerMAC, clientMAC, p.vlan, p.src.Is6())
	var nl gopacket.NetworkLayer
	if p.src.Is4() {
		ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP,
			Flags: layers.IPv4DontFragment, SrcIP: p.dst.AsSlice(), DstIP: p.src.AsSlice()}
		ls, nl = append(ls, ip), ip
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
			SrcIP: p.dst.AsSlice(), DstIP: p.src.AsSlice()}
		ls, nl = append(ls, ip), ip
	}
	rst := &layers.TCP{SrcPort: layers.TCPPort(p.dport), DstPort: layers.TCPPort(p.sport), RST: true}
	if containsFlag(p.flags, 'A') {
		rst.Seq = p.ack
	} else {
		n := uint32(len(p.payload))
		if containsFlag(p.flags, 'S') {
			n++
		}
		if containsFlag(p.flags, 'F') {
			n++
		}
		rst.ACK = true
		rst.Ack = p.seq + n
	}
	_ = rst.SetNetworkLayerForChecksum(nl)
	return serialize(t, append(ls, rst)...)
}

func containsFlag(flags string, f rune) bool {
	for _, c := range flags {
		if c == f {
			return true
		}
	}
	return false
}

// unreachable is the ICMP port unreachable the router answers p with: from
// the VIP, quoting p's IP header and UDP header.
func unreachable(t testing.TB, p pkt) []byte {
	t.Helper()
	ip := p.ipBytes(t)
	ls := l2(routerMAC, clientMAC, p.vlan, p.src.Is6())
	if p.src.Is4() {
		ls = append(ls, &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolICMPv4,
			SrcIP: p.dst.AsSlice(), DstIP: p.src.AsSlice()},
			&layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)},
			gopacket.Payload(ip[:28]))
		return serialize(t, ls...)
	}
	ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolICMPv6,
		SrcIP: p.dst.AsSlice(), DstIP: p.src.AsSlice()}
	icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(1, 4)}
	_ = icmp.SetNetworkLayerForChecksum(ip6)
	ls = append(ls, ip6, icmp, gopacket.Payload(append(make([]byte, 4), ip[:48]...)))
	return serialize(t, ls...)
}

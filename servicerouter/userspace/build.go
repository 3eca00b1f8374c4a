package userspace

import (
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// l2Decoder decodes the Ethernet header and its 802.1Q tag of a frame the
// router answers, with a DecodingLayerParser that stops at the IP header.
type l2Decoder struct {
	eth     layers.Ethernet
	dot1q   layers.Dot1Q
	parser  *gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

func newL2Decoder() l2Decoder {
	return l2Decoder{decoded: make([]gopacket.LayerType, 0, 4)}
}

// decode fills eth (and dot1q when tagged) from f, whose L2 header parse
// accepted (one 0x8100 tag at most, then IPv4 or IPv6).
func (l *l2Decoder) decode(f []byte) {
	if l.parser == nil {
		l.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &l.eth, &l.dot1q)
		l.parser.IgnoreUnsupported = true
	}
	// Stops, without error, at the IP layer (not registered).
	_ = l.parser.DecodeLayers(f, &l.decoded)
}

// replyL2 is the L2 header of a reply to the frame: MACs swapped, the VLAN
// tag (priority, DEI, VID) kept, the EtherType(s) unchanged.
func (d *Dataplane) replyL2(f []byte, p *pkt) []gopacket.SerializableLayer {
	d.l2.decode(f)
	eth := &layers.Ethernet{SrcMAC: d.l2.eth.DstMAC, DstMAC: d.l2.eth.SrcMAC, EthernetType: d.l2.eth.EthernetType}
	if !p.vlan {
		return []gopacket.SerializableLayer{eth}
	}
	q := d.l2.dot1q
	return []gopacket.SerializableLayer{eth, &layers.Dot1Q{Priority: q.Priority, DropEligible: q.DropEligible,
		VLANIdentifier: q.VLANIdentifier, Type: q.Type}}
}

// serialize builds ls and returns a copy of the first n bytes (Ethernet
// padding, which gopacket adds below 60 bytes and the router does not,
// cut). A failure (never for the layers built here) is an encapsulation
// error: dropped.
func (d *Dataplane) serialize(frame []byte, n int, ls ...gopacket.SerializableLayer) ([]byte, bool) {
	opts := gopacket.SerializeOptions{ComputeChecksums: true}
	if err := gopacket.SerializeLayers(d.buf, opts, ls...); err != nil {
		d.global.EncapErrors++
		return frame, false
	}
	b := d.buf.Bytes()
	if n > len(b) {
		n = len(b)
	}
	return append([]byte(nil), b[:n]...), true
}

// encap is encap.h: an outer IPv4 (IPIP, protocol 4 or 41) or IPv6 header
// (next header 4 or 41) from the router to the backend in front of the
// client's IP packet (and any trailing bytes), TTL 64, DSCP/ECN copied, ID
// 0; the VLAN tag is not carried. Out of the ingress interface (TX) the
// source MAC is the frame's destination; through another (Redirect) that
// interface's MAC when known.
func (d *Dataplane) encap(f []byte, ingress int, p *pkt, be *backend) (Verdict, []byte) {
	egress := be.ifindex
	if egress == 0 {
		egress = uint32(ingress)
	}
	tx := egress == uint32(ingress)
	var src [6]byte
	copy(src[:], f[0:6])
	if !tx {
		if m, ok := d.ifMACs[egress]; ok {
			src = m
		}
	}
	inner := layers.IPProtocolIPv4
	if p.family == familyIPv6 {
		inner = layers.IPProtocolIPv6
	}
	eth := &layers.Ethernet{SrcMAC: src[:], DstMAC: be.mac[:]}
	var outer gopacket.SerializableLayer
	n := ethLen + len(f) - p.off
	if be.family == familyIPv4 {
		eth.EthernetType = layers.EthernetTypeIPv4
		outer = &layers.IPv4{Version: 4, IHL: 5, TOS: p.tos, Length: uint16(p.l3Len + ip4Len), TTL: 64,
			Protocol: inner, SrcIP: d.src4[:], DstIP: be.addr[12:]}
		n += ip4Len
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		outer = &layers.IPv6{Version: 6, TrafficClass: p.tos, Length: uint16(p.l3Len), NextHeader: inner,
			HopLimit: 64, SrcIP: d.src6[:], DstIP: be.addr[:]}
		n += ip6Len
	}
	out, ok := d.serialize(f, n, eth, outer, gopacket.Payload(f[p.off:]))
	if !ok {
		return Verdict{Action: Drop}, out
	}
	if tx {
		return Verdict{Action: TX, Egress: int(egress)}, out
	}
	if !d.txPorts[egress] {
		return Verdict{Action: Drop}, out // redirect to an interface missing from the devmap
	}
	return Verdict{Action: Redirect, Egress: int(egress)}, out
}

// reset is tcp_reset of reply.h: the RST refusing a TCP segment (RFC 9293
// 3.10.7.1: with ACK <SEQ=SEG.ACK><CTL=RST>, otherwise
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN and FIN counting one),
// addresses, ports and MACs swapped, VLAN tag kept, options and payload
// cut, TTL 64, TOS 0, IPv4 DF and ID 0, sent back (TX). A RST is never
// answered: dropped.
func (d *Dataplane) reset(f []byte, p *pkt) (Verdict, []byte) {
	if p.flags&tcpFlagRST != 0 {
		return Verdict{Action: Drop}, f
	}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(p.flow.dport), DstPort: layers.TCPPort(p.flow.sport),
		DataOffset: 5, RST: true}
	if p.flags&tcpFlagACK != 0 {
		tcp.Seq = p.ack
	} else {
		n := uint32(p.l4Len)
		if p.flags&tcpFlagSYN != 0 {
			n++
		}
		if p.flags&tcpFlagFIN != 0 {
			n++
		}
		tcp.ACK, tcp.Ack = true, p.seq+n
	}
	ls := d.replyL2(f, p)
	ip := f[p.off:]
	n := p.off + tcpLen
	if p.family == familyIPv4 {
		ip4 := &layers.IPv4{Version: 4, IHL: 5, Length: ip4Len + tcpLen, Flags: layers.IPv4DontFragment,
			TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: ip[16:20], DstIP: ip[12:16]}
		_ = tcp.SetNetworkLayerForChecksum(ip4)
		ls = append(ls, ip4, tcp)
		n += ip4Len
	} else {
		ip6 := &layers.IPv6{Version: 6, Length: tcpLen, NextHeader: layers.IPProtocolTCP, HopLimit: 64,
			SrcIP: ip[24:40], DstIP: ip[8:24]}
		_ = tcp.SetNetworkLayerForChecksum(ip6)
		ls = append(ls, ip6, tcp)
		n += ip6Len
	}
	out, ok := d.serialize(f, n, ls...)
	if !ok {
		return Verdict{Action: Drop}, out
	}
	return Verdict{Action: TX}, out
}

// unreachable is icmp4_unreach/icmp6_unreach of reply.h: ICMP port
// unreachable (type 3 code 3) or ICMPv6 port unreachable (type 1 code 4)
// from the VIP, quoting the client's IP header and UDP header, TTL/hop
// limit 64, TOS/traffic class 0, MACs swapped, VLAN tag kept (TX).
func (d *Dataplane) unreachable(f []byte, p *pkt) (Verdict, []byte) {
	ls := d.replyL2(f, p)
	ip := f[p.off:]
	var n int
	if p.family == familyIPv4 {
		quote := ip[:ip4Len+udpLen]
		ip4 := &layers.IPv4{Version: 4, IHL: 5, Length: ip4Len + 8 + ip4Len + udpLen, TTL: 64,
			Protocol: layers.IPProtocolICMPv4, SrcIP: ip[16:20], DstIP: ip[12:16]}
		icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(3, 3)}
		ls = append(ls, ip4, icmp, gopacket.Payload(quote))
		n = p.off + ip4Len + 8 + len(quote)
	} else {
		var quote [4 + ip6Len + udpLen]byte // the unused word, then the quote
		copy(quote[4:], ip[:ip6Len+udpLen])
		ip6 := &layers.IPv6{Version: 6, Length: 8 + ip6Len + udpLen, NextHeader: layers.IPProtocolICMPv6,
			HopLimit: 64, SrcIP: ip[24:40], DstIP: ip[8:24]}
		icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(1, 4)}
		_ = icmp.SetNetworkLayerForChecksum(ip6)
		ls = append(ls, ip6, icmp, gopacket.Payload(quote[:]))
		n = p.off + ip6Len + 4 + len(quote)
	}
	out, ok := d.serialize(f, n, ls...)
	if !ok {
		return Verdict{Action: Drop}, out
	}
	return Verdict{Action: TX}, out
}

package userspace

import (
	"encoding/binary"
	"net/netip"

	"github.com/stitchnfv/stitch/xdp"
)

const (
	ethLen      = 14
	vlanLen     = 4
	ip4Len      = 20
	ip6Len      = 40
	tcpLen      = 20
	udpLen      = 8
	etherIPv4   = 0x0800
	etherIPv6   = 0x86dd
	etherDot1Q  = 0x8100
	protoTCP    = 6
	protoUDP    = 17
	tcpFlagFIN  = 0x01
	tcpFlagSYN  = 0x02
	tcpFlagRST  = 0x04
	tcpFlagACK  = 0x10
	ipMFOffset  = 0x3fff
	familyIPv4  = 4
	familyIPv6  = 6
	protoIPIP   = 4
	protoIPv6In = 41
)

// pkt is struct pkt of the XDP program: what the decision and the rewrite
// need, plus the offset of the IP header.
type pkt struct {
	flow   flowKey
	off    int    // IP header offset in the frame
	l3Len  int    // IP total length (header + payload)
	seq    uint32 // TCP, host order
	ack    uint32
	l4Len  int // TCP payload length
	flags  uint8
	tos    uint8
	family uint8
	vlan   bool
}

var v4Mapped = [12]byte{10: 0xff, 11: 0xff}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

// parse is xdp_router's header walk and parse.h: ok when p is a TCP/UDP
// packet worth a VIP lookup, else the frame is passed (and the global
// counters say why).
func (d *Dataplane) parse(f []byte, p *pkt) bool {
	if len(f) < ethLen {
		return false // the kernel runs no XDP program on such frames
	}
	proto := be16(f[12:])
	off := ethLen
	if proto == etherDot1Q {
		if len(f) < ethLen+vlanLen {
			d.global.Truncated++
			return false
		}
		proto = be16(f[16:])
		p.vlan = true
		off += vlanLen
	}
	p.off = off
	switch proto {
	case etherIPv4:
		return d.parse4(f, off, p)
	case etherIPv6:
		return d.parse6(f, off, p)
	}
	return false
}

func (d *Dataplane) parse4(f []byte, off int, p *pkt) bool {
	if len(f) < off+ip4Len {
		d.global.Truncated++
		return false
	}
	ip := f[off:]
	if ip[0]>>4 != 4 || ip[0]&0xf < 5 {
		return false
	}
	p.family = familyIPv4
	copy(p.flow.src[:12], v4Mapped[:])
	copy(p.flow.src[12:], ip[12:16])
	copy(p.flow.dst[:12], v4Mapped[:])
	copy(p.flow.dst[12:], ip[16:20])
	if ip[0]&0xf != 5 || be16(ip[6:])&ipMFOffset != 0 {
		if d.vipAddrs[p.flow.dst] != 0 {
			d.global.OptionsOrFragments++
		}
		return false
	}
	if ip[9] != protoTCP && ip[9] != protoUDP {
		return false
	}
	p.flow.proto = ip[9]
	p.tos = ip[1]
	tot := int(be16(ip[2:]))
	if tot < ip4Len || off+tot > len(f) {
		d.global.Truncated++
		return false
	}
	p.l3Len = tot
	if !parseL4(f[off+ip4Len:off+tot], p) {
		d.global.Truncated++
		return false
	}
	return true
}

// isExtHeader: hop-by-hop, routing, fragment, ESP, AH, destination
// options, mobility, HIP, shim6.
func isExtHeader(nh uint8) bool {
	switch nh {
	case 0, 43, 44, 50, 51, 60, 135, 139, 140:
		return true
	}
	return false
}

func (d *Dataplane) parse6(f []byte, off int, p *pkt) bool {
	if len(f) < off+ip6Len {
		d.global.Truncated++
		return false
	}
	ip := f[off:]
	if ip[0]>>4 != 6 {
		return false
	}
	if isV4Mapped(ip[24:40]) || isV4Mapped(ip[8:24]) {
		return false // as parse_v6: never on the wire, and VIP keys use the form
	}
	p.family = familyIPv6
	copy(p.flow.src[:], ip[8:24])
	copy(p.flow.dst[:], ip[24:40])
	if nh := ip[6]; nh != protoTCP && nh != protoUDP {
		if isExtHeader(nh) && d.vipAddrs[p.flow.dst] != 0 {
			d.global.IPv6ExtHeaders++
		}
		return false
	}
	p.flow.proto = ip[6]
	p.tos = ip[0]<<4 | ip[1]>>4
	plen := int(be16(ip[4:]))
	if off+ip6Len+plen > len(f) {
		d.global.Truncated++
		return false
	}
	p.l3Len = plen + ip6Len
	if !parseL4(f[off+ip6Len:off+ip6Len+plen], p) {
		d.global.Truncated++
		return false
	}
	return true
}

// isV4Mapped reports whether a 16-byte address is in ::ffff:0:0/96.
func isV4Mapped(a []byte) bool { return [12]byte(a[:12]) == v4Mapped }

// parseL4 reads the ports (and the TCP fields) from l4, the IP payload;
// false when the header is cut short.
func parseL4(l4 []byte, p *pkt) bool {
	if p.flow.proto == protoTCP {
		if len(l4) < tcpLen {
			return false
		}
		doff := int(l4[12]>>4) * 4
		if doff < tcpLen || doff > len(l4) {
			return false
		}
		p.flow.sport = be16(l4[0:])
		p.flow.dport = be16(l4[2:])
		p.flags = l4[13]
		p.seq = binary.BigEndian.Uint32(l4[4:])
		p.ack = binary.BigEndian.Uint32(l4[8:])
		p.l4Len = len(l4) - doff
		return true
	}
	if len(l4) < udpLen {
		return false
	}
	p.flow.sport = be16(l4[0:])
	p.flow.dport = be16(l4[2:])
	return true
}

func (d *Dataplane) vipCounter(id uint32) *xdp.FlowCounters {
	c := d.vipStats[id]
	if c == nil {
		c = &xdp.FlowCounters{}
		d.vipStats[id] = c
	}
	return c
}

func (d *Dataplane) backendCounter(idx uint32) *xdp.FlowCounters {
	c := d.beStats[idx]
	if c == nil {
		c = &xdp.FlowCounters{}
		d.beStats[idx] = c
	}
	return c
}

func add(c *xdp.FlowCounters, bytes int, newFlow, refused bool) {
	c.Packets++
	c.Bytes += uint64(bytes)
	if newFlow {
		c.NewFlows++
	}
	if refused {
		c.Refused++
	}
}

// backendAt is the backend of idx when it is set.
func (d *Dataplane) backendAt(idx uint32) *backend {
	if idx >= xdp.MaxBackends || d.backends[idx].family == 0 {
		return nil
	}
	return &d.backends[idx]
}

// Process runs frame, received on interface ingressIfindex, through the
// router, as the XDP program would: the verdict and the frame as the
// program leaves it (a new slice for TX and Redirect; frame itself,
// untouched, for Pass and for Drop). Frames shorter than an Ethernet header
// are passed (the kernel runs no XDP program on them).
func (d *Dataplane) Process(frame []byte, ingressIfindex int) (Verdict, []byte) {
	v, out := d.process(frame, ingressIfindex)
	if v.Action == TX {
		v.Egress = ingressIfindex
	}
	return v, out
}

func (d *Dataplane) process(frame []byte, ingressIfindex int) (Verdict, []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var p pkt
	if !d.parse(frame, &p) {
		return Verdict{Action: Pass}, frame
	}
	vip, ok := d.vips[vipKey{addr: p.flow.dst, port: p.flow.dport, proto: p.flow.proto}]
	if !ok {
		return Verdict{Action: Pass}, frame
	}
	bytes := len(frame)
	vc := d.vipCounter(vip.ID)
	syn := p.flags&(tcpFlagSYN|tcpFlagACK) == tcpFlagSYN
	isTCP := p.flow.proto == protoTCP
	useConns := vip.Flags&xdp.VIPNoConnTable == 0

	// Established flows keep their backend; a SYN always starts afresh.
	if useConns && !(isTCP && syn) {
		if idx, ok := d.conns.get(&p.flow); ok {
			if be := d.backendAt(idx); be != nil {
				add(vc, bytes, false, false)
				add(d.backendCounter(idx), bytes, false, false)
				return d.encap(frame, ingressIfindex, &p, be)
			}
		}
	}

	idx := xdp.NoBackend
	if t := d.tables[vip.ID]; t != nil {
		idx = t[xdp.FlowHash(tuple(&p.flow))%xdp.RingSize]
	}
	be := d.backendAt(idx)
	if be == nil {
		idx = vip.Fallback
		be = d.backendAt(idx)
	}
	if be == nil {
		add(vc, bytes, false, true)
		if isTCP {
			return d.reset(frame, &p)
		}
		if vip.Flags&xdp.VIPICMPUnreachable != 0 {
			return d.unreachable(frame, &p)
		}
		return Verdict{Action: Drop}, frame
	}
	newFlow := useConns && (!isTCP || syn)
	if newFlow {
		d.conns.put(&p.flow, idx)
	}
	add(vc, bytes, newFlow, false)
	add(d.backendCounter(idx), bytes, newFlow, false)
	return d.encap(frame, ingressIfindex, &p, be)
}

// Decide reports the backend index a packet of the tuple would go to now
// (connection entry first, as for a non-SYN packet, else the table, else
// the fallback), without counting or changing state; xdp.NoBackend when it
// would be refused.
func (d *Dataplane) Decide(t xdp.FiveTuple) uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := flowKey{src: t.Src.As16(), dst: t.Dst.As16(), sport: t.SrcPort, dport: t.DstPort, proto: uint8(t.Proto)}
	vip, ok := d.vips[vipKey{addr: k.dst, port: k.dport, proto: k.proto}]
	if !ok {
		return xdp.NoBackend
	}
	if vip.Flags&xdp.VIPNoConnTable == 0 {
		if idx, ok := d.conns.peek(k); ok && d.backendAt(idx) != nil {
			return idx
		}
	}
	idx := xdp.NoBackend
	if tb := d.tables[vip.ID]; tb != nil {
		idx = tb[xdp.FlowHash(xdp.FiveTuple{Src: netip.AddrFrom16(k.src), Dst: netip.AddrFrom16(k.dst),
			SrcPort: k.sport, DstPort: k.dport, Proto: t.Proto})%xdp.RingSize]
	}
	if d.backendAt(idx) == nil {
		idx = vip.Fallback
	}
	if d.backendAt(idx) == nil {
		return xdp.NoBackend
	}
	return idx
}

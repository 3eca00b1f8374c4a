package xdp

import (
	"encoding/binary"
	"net"
	"net/netip"
)

// RingSize is the number of slots M of every Maglev table (a prime).
const RingSize = 65537

// NoBackend in a table slot or as a fallback means "no backend".
const NoBackend uint32 = 0xffffffff

// Limits compiled into the BPF program.
const (
	MaxVIPs       = 512  // VIP keys, and VIP ids 0..MaxVIPs-1
	MaxBackends   = 4096 // backend indices 0..MaxBackends-1
	MaxInterfaces = 64   // egress interfaces (devmap, source MACs)
)

// Proto is an IP protocol number; only TCP and UDP are routed.
type Proto uint8

// The routed protocols.
const (
	TCP Proto = 6
	UDP Proto = 17
)

// VIP identifies a service: destination address, port and protocol.
type VIP struct {
	Addr  netip.Addr
	Port  uint16
	Proto Proto
}

// VIPFlags change how a VIP's packets are handled.
type VIPFlags uint32

// VIPNoConnTable skips the connection table for the VIP: every packet is
// placed by the Maglev table alone (stateless, for UDP services that do not
// mind a move on a table change).
const VIPNoConnTable VIPFlags = 1

// VIPICMPUnreachable answers a refused UDP datagram (no backend, no
// fallback) with ICMP/ICMPv6 port unreachable from the VIP instead of
// dropping it silently. Off by default: a refused VIP under a spoofed
// flood would reflect one small ICMP per datagram.
const VIPICMPUnreachable VIPFlags = 2

// VIPConfig is what the router needs to know about a VIP.
type VIPConfig struct {
	// ID selects the VIP's Maglev table and counters; 0..MaxVIPs-1. Several
	// VIP keys may share an ID (and so a table).
	ID    uint32
	Flags VIPFlags
	// Fallback is the backend used when the table has no backend for the
	// flow (overflow to a remote domain); NoBackend to refuse instead.
	Fallback uint32
}

// Backend is an instance the router encapsulates packets to.
type Backend struct {
	// Addr is the tunnel endpoint (IPv4 or IPv6); it decides the outer
	// header (IPIP or IPv6 encapsulation).
	Addr netip.Addr
	// NextHopMAC is the outer destination MAC (the backend itself on the
	// same link, else the gateway towards it).
	NextHopMAC net.HardwareAddr
	// Ifindex is the egress interface; 0 means "out of the ingress
	// interface" (XDP_TX).
	Ifindex int
}

// Family is the backend's tunnel family, 4 (IPIP) or 6 (IPv6
// encapsulation), from its address; 0 for an invalid address.
func (b Backend) Family() int {
	switch {
	case b.Addr.Is4() || b.Addr.Is4In6():
		return 4
	case b.Addr.Is6():
		return 6
	}
	return 0
}

// FiveTuple is a flow as seen by the router (Dst is the VIP address).
type FiveTuple struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto            Proto
}

// FlowCounters are summed over CPUs.
type FlowCounters struct {
	Packets, Bytes, NewFlows, Refused uint64
}

// GlobalCounters count packets the router passes or drops outside any VIP.
type GlobalCounters struct {
	// OptionsOrFragments: IPv4 with options or fragmented, to a VIP address.
	OptionsOrFragments uint64
	// IPv6ExtHeaders: IPv6 with an extension header, to a VIP address.
	IPv6ExtHeaders uint64
	// Truncated: headers cut short (passed).
	Truncated uint64
	// EncapErrors: no room to encapsulate (dropped).
	EncapErrors uint64
}

// Counters is a snapshot of all counters; maps hold non-zero entries only.
type Counters struct {
	VIPs     map[uint32]FlowCounters // by VIP id
	Backends map[uint32]FlowCounters // by backend index
	Global   GlobalCounters
}

// addrOf is a in the BPF layout: 16 bytes in network order (IPv4 mapped),
// as four words whose memory is those bytes.
func addrOf(a netip.Addr) routerAddr {
	b := a.As16()
	var r routerAddr
	for i := range r.W {
		r.W[i] = binary.NativeEndian.Uint32(b[4*i:])
	}
	return r
}

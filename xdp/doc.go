// Package xdp is the data plane of an anycast service router, Katran-like:
// an XDP program (bpf/router.c, compiled by bpf2go into router_bpfel.o and
// router_bpfel.go, both committed so a plain go build needs no clang) and
// its Go control API (Load, Router.SetVIP, SetBackend, SwapTable,
// UpdateEntries, Counters, Attach).
//
// # Parsing
//
// Ethernet, at most one 802.1Q tag, IPv4 or IPv6, then TCP or UDP. Every
// header is bounds-checked before it is read. The rules:
//
//   - Not for a VIP (no VIP key {destination address, destination port,
//     protocol}), or not IPv4/IPv6/TCP/UDP at all: XDP_PASS, untouched.
//   - IPv4 with options (IHL > 5) or fragmented (MF set or a fragment
//     offset): XDP_PASS, untouched, counted in
//     GlobalCounters.OptionsOrFragments when the destination is a VIP
//     address. Later fragments carry no ports, so the router cannot place
//     them consistently with the first; the userspace path (the kernel
//     stack) reassembles and handles them.
//   - IPv6 from or to an IPv4-mapped address (::ffff:0:0/96, never on the
//     wire per RFC 4291): XDP_PASS, untouched. VIP keys hold IPv4 VIPs in
//     that form, so such a packet would otherwise pass for IPv4 VIP
//     traffic and share its flows.
//   - IPv6 whose next header is an extension header (hop-by-hop, routing,
//     fragment, destination options, ESP, AH, mobility, HIP, shim6):
//     XDP_PASS, untouched, counted in GlobalCounters.IPv6ExtHeaders when
//     the destination is a VIP address. Other non-TCP/UDP next headers
//     (ICMPv6…) pass uncounted.
//   - Truncated: a header cut short (VLAN tag, IP header, L4 header, TCP
//     data offset beyond the packet) or an IP length larger than the frame:
//     XDP_PASS, untouched, counted in GlobalCounters.Truncated (except cuts
//     inside the Ethernet header itself). The kernel does not run XDP on
//     frames shorter than an Ethernet header. Trailing bytes beyond the IP
//     length (Ethernet padding) are tolerated and carried along.
//
// # Decision
//
// For a VIP packet: a TCP segment other than a SYN, and any UDP datagram,
// first looks up the LRU connection table (5-tuple -> backend index), so
// established flows keep their backend across table changes. A SYN (SYN
// without ACK) always starts afresh: it is placed by the Maglev table of
// the VIP id, slot FlowHash(tuple) % RingSize (FlowHash is the Go twin of
// the C hash, bit for bit), and a connection entry is written — for SYNs
// and UDP only, so stray ACKs (e.g. after a router restart) follow the
// table without creating state. VIPNoConnTable skips the table entirely.
// A connection entry naming a deleted backend is ignored and the flow
// re-placed.
//
// A slot holding NoBackend (all instances full or draining), a VIP id
// without a table, or a deleted backend, means "no backend": the VIP's
// Fallback backend is used (an overflow route to a remote domain, tunnelled
// like any backend, and new flows placed there stay there through the
// connection table), else the packet is refused:
//
//   - TCP: answered with a RST built in place (RFC 9293 3.10.7.1: if the
//     segment had ACK, <SEQ=SEG.ACK><CTL=RST>, else <SEQ=0>
//     <ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN and FIN counting one),
//     addresses, ports and MACs swapped, VLAN tag kept, TCP options and
//     payload cut, TTL 64, IPv4 DF, checksums recomputed; sent back with
//     XDP_TX. A refused RST is dropped (never answer a RST).
//   - UDP: dropped; with VIPICMPUnreachable, answered instead with ICMP
//     port unreachable (type 3 code 3) or ICMPv6 port unreachable (type 1
//     code 4) from the VIP, quoting the IP and UDP headers (XDP_TX). Off
//     by default because spoofed floods would be reflected.
//
// All are counted in the VIP's FlowCounters.Refused.
//
// # Forwarding
//
// Packets are encapsulated, not rewritten: the inner packet is left
// byte for byte as the client sent it (VIP as destination, L4 checksums
// untouched) and an outer IPv4 (protocol 4 for IPv4 inside, 41 for IPv6
// inside) or IPv6 header (next header 4 or 41) — the backend address's
// family decides — is prepended, from Options.RouterIPv4/RouterIPv6 to the
// backend, TTL/hop limit 64, DSCP/ECN copied from the inner packet, IPv4
// header checksum computed. The backend decapsulates (an ipip/ip6tnl
// device, or package xdp/decap where the kernel has none; the VIP on lo)
// and answers the client directly (direct server
// return), so replies never cross the router and the router needs no
// reverse state. Address rewriting (DNAT) would instead need the
// reverse path through the router (or SNAT, losing the client address),
// L4 checksum updates and per-flow state on both directions. The cost of
// encapsulation is 20 or 40 bytes of MTU between router and backend (the
// router does not fragment; frames that grow beyond the egress MTU are
// lost, so give the underlay room or lower the VIP MSS).
//
// The outer Ethernet header goes to the backend's NextHopMAC. A backend
// whose Ifindex is 0 or the ingress interface is sent with XDP_TX, its
// source MAC being the frame's original destination (ours); otherwise with
// XDP_REDIRECT through a devmap, its source MAC being the egress
// interface's (learnt by SetBackend/Attach, or SetInterfaceMAC); a
// redirect to an interface missing from the devmap drops the frame. The
// ingress VLAN tag is not carried to the outer frame. Redirecting into a
// veth requires an XDP program on the peer (the kernel's rule).
//
// # Tables
//
// Each VIP id has two Maglev tables (inner BPF arrays of RingSize backend
// indices, keys 2·id and 2·id+1 of an ARRAY_OF_MAPS) and a generation in
// the table_gen array saying which one packets use. SwapTable writes the
// new table into the other one through its memory mapping (one copy,
// ~0.2 ms) and flips the generation with one array update, so a packet
// sees the old table or the new, never a mix, and no RCU grace period is
// waited for (an update of the outer map waits for one: 10–16 ms). The
// table just retired is overwritten only by a later swap, at least
// reuseAfter (1 ms) after the flip, by which time no packet that read the
// old generation still uses it. A VIP id's first table installs both
// inner maps in the outer map, paying that one grace period once.
// UpdateEntries changes a few slots of the table in use with one batched
// update (packets may see the slots change one by one). SwapTables swaps
// many VIP ids with one batched generation update. Computing the Maglev
// permutation is the caller's job.
//
// # Counters
//
// Per-CPU, summed by Counters: per VIP id and per backend index packets,
// bytes (whole frames as received), new flows (connection entries
// written) and refused; globally the passed and dropped cases above.
package xdp

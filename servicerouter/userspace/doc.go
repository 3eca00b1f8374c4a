// Package userspace is the userspace twin of the XDP service router
// (package xdp): the same configuration surface (xdp.VIP, xdp.VIPConfig,
// xdp.Backend, Maglev tables of xdp.RingSize slots, router tunnel
// addresses, interface MACs) held in Go maps, a bounded LRU connection
// table, and Process, which gives for a frame the verdict and the output
// frame the XDP program gives, byte for byte. It runs where XDP cannot be
// attached (no root, no BPF, other kernels) and serves as the reference
// the XDP program is checked against (the differential test feeds both
// thousands of random frames and compares).
//
// # Parsing
//
// The rules of xdp/doc.go, in the same order as bpf/parse.h, on the raw
// bytes: at most one 802.1Q (0x8100) tag, IPv4 without options or
// fragmentation, IPv6 whose next header is TCP or UDP, every header
// bounds-checked against the IP length and the frame, trailing bytes
// tolerated and carried along. gopacket's decoders are not used for these
// decisions because their validation is not the router's: 0x88a8 is
// decoded as a Dot1Q tag, IPv4 and TCP options are parsed (a malformed
// option is an error, which the router ignores), an 802.3 length field
// trims the payload. gopacket builds every frame the router emits
// (gopacket.SerializeLayers with layers.Ethernet, Dot1Q, IPv4, IPv6, TCP,
// ICMPv4, ICMPv6) and decodes the Ethernet/802.1Q header they copy.
//
// # Differences from the XDP program
//
//   - The connection table is a strict LRU of Options.ConnTableSize
//     entries; the kernel's LRU hash is approximate (per-CPU free lists)
//     and may evict other entries, earlier. Below the capacity both hold
//     every flow.
//   - A backend behind another interface is redirected when SetBackend
//     named that interface (the devmap of the XDP program); the kernel also
//     removes an interface from the devmap when it disappears, this
//     package does not watch interfaces.
//   - Counters are exact totals, not per-CPU sums read while packets flow.
//
// A Dataplane is safe for concurrent use; Process holds its lock.
package userspace

package decap

import (
	"bytes"
	"context"
	"encoding/hex"
	"net"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/stitchnfv/stitch/internal/testenv"
)

var (
	router4  = netip.MustParseAddr("10.0.0.1")
	router6  = netip.MustParseAddr("fd00::1")
	stranger = netip.MustParseAddr("10.0.0.66")
	instMAC  = net.HardwareAddr{0x02, 0, 0, 0, 1, 1}
	hopMAC   = net.HardwareAddr{0x02, 0, 0, 0, 0, 0xfe}
)

func load(t *testing.T) *Program {
	t.Helper()
	testenv.RequireRoot(t)
	p, err := Load(context.Background(), []netip.Addr{router4, router6})
	if err != nil {
		testenv.Unavailable(t, "cannot load the XDP program: "+err.Error())
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func serialize(t *testing.T, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(buf.Bytes())
}

// inner is the client's SYN to the VIP, as the instance must see it: an
// Ethernet header of etherType, then the packet.
func inner(t *testing.T, v6 bool) (gopacket.SerializableLayer, []gopacket.SerializableLayer) {
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 7, SYN: true, Window: 64240}
	if v6 {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
			SrcIP: net.ParseIP("fd01::10"), DstIP: net.ParseIP("fd02::100")}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		return ip, []gopacket.SerializableLayer{ip, tcp}
	}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
		SrcIP: net.IPv4(192, 168, 0, 10), DstIP: net.IPv4(10, 10, 0, 100)}
	_ = tcp.SetNetworkLayerForChecksum(ip)
	return ip, []gopacket.SerializableLayer{ip, tcp}
}

// tunnelled wraps the inner packet as the router does.
func tunnelled(t *testing.T, from netip.Addr, innerV6 bool) (frame, want []byte) {
	_, in := inner(t, innerV6)
	innerType, proto := layers.EthernetTypeIPv4, layers.IPProtocolIPv4
	if innerV6 {
		innerType, proto = layers.EthernetTypeIPv6, layers.IPProtocolIPv6
	}
	eth := &layers.Ethernet{SrcMAC: hopMAC, DstMAC: instMAC}
	var outer gopacket.SerializableLayer
	if from.Is4() {
		eth.EthernetType = layers.EthernetTypeIPv4
		outer = &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: from.AsSlice(), DstIP: net.IPv4(10, 1, 0, 1)}
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		outer = &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: from.AsSlice(), DstIP: net.ParseIP("fd00::2")}
	}
	frame = serialize(t, append([]gopacket.SerializableLayer{eth, outer}, in...)...)
	// The Ethernet header by hand: gopacket pads a frame to 60 bytes, the
	// program (rightly) does not.
	want = append(append(append([]byte{}, instMAC...), hopMAC...), byte(innerType>>8), byte(innerType))
	want = append(want, serialize(t, in...)...)
	return frame, want
}

func run(t *testing.T, p *Program, frame []byte) (uint32, []byte) {
	t.Helper()
	opts := ebpf.RunOptions{Data: frame, DataOut: make([]byte, len(frame)+64)}
	ret, err := p.Prog().Run(&opts)
	if err != nil {
		t.Fatal(err)
	}
	return ret, opts.DataOut
}

const (
	xdpDrop = 1
	xdpPass = 2
)

func TestDecap(t *testing.T) {
	p := load(t)
	for _, tc := range []struct {
		name    string
		from    netip.Addr
		innerV6 bool
		act     uint32
		opened  bool
	}{
		{"IPIP from the router", router4, false, xdpPass, true},
		{"IPv6 inside IPv4 from the router", router4, true, xdpPass, true},
		{"IPv4 inside IPv6 from the router", router6, false, xdpPass, true},
		{"IPv6 inside IPv6 from the router", router6, true, xdpPass, true},
		{"IPIP from anyone else", stranger, false, xdpDrop, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frame, want := tunnelled(t, tc.from, tc.innerV6)
			act, out := run(t, p, frame)
			if act != tc.act {
				t.Fatalf("action %d, want %d", act, tc.act)
			}
			if tc.opened && !bytes.Equal(out, want) {
				t.Fatalf("output\n%s\nwant\n%s", hex.Dump(out), hex.Dump(want))
			}
		})
	}
	// What is not a tunnel packet passes untouched, whatever its length.
	_, plain := inner(t, false)
	frame := serialize(t, append([]gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: hopMAC, DstMAC: instMAC, EthernetType: layers.EthernetTypeIPv4}}, plain...)...)
	tunnel, _ := tunnelled(t, router4, false)
	for _, f := range [][]byte{frame, tunnel[:14+10], tunnel[:14+19]} {
		if act, out := run(t, p, f); act != xdpPass || !bytes.Equal(out, f) {
			t.Fatalf("%d-byte frame: action %d, changed %v", len(f), act, !bytes.Equal(out, f))
		}
	}
	c, err := p.Counters()
	if err != nil {
		t.Fatal(err)
	}
	if c.Decapsulated != 4 || c.Refused != 1 {
		t.Fatalf("counters %+v, want 4 opened and 1 refused", c)
	}
	// A router removed is a stranger.
	if err := p.RemoveRouter(router4); err != nil {
		t.Fatal(err)
	}
	f, _ := tunnelled(t, router4, false)
	if act, _ := run(t, p, f); act != xdpDrop {
		t.Fatalf("after RemoveRouter: action %d, want drop", act)
	}
}

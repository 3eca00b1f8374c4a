package servicerouter

import (
	"context"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/stitchnfv/stitch/internal/testenv"
	"github.com/stitchnfv/stitch/servicerouter/slots"
	"github.com/stitchnfv/stitch/xdp"
)

var (
	vip       = xdp.VIP{Addr: netip.MustParseAddr("10.0.0.100"), Port: 80, Proto: xdp.TCP}
	clientMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x01}
	routerMAC = net.HardwareAddr{0x02, 0, 0, 0, 0, 0xfe}
)

func mac(last byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0, 0, 0, 1, last} }

func inst(id string, last byte) Instance {
	return Instance{ID: id, Addr: netip.AddrFrom4([4]byte{10, 1, 0, last}), NextHopMAC: mac(last)}
}

// loaded is the real XDP program with a router on it (root, BPF); its
// sessions last an hour on average, so none ends within a test.
func loaded(t *testing.T) (*Router, *xdp.Router) {
	t.Helper()
	testenv.RequireRoot(t)
	dp, err := xdp.Load(context.Background(), xdp.Options{RouterIPv4: netip.MustParseAddr("10.0.0.1"), ConnTableSize: 1 << 16})
	if err != nil {
		testenv.Unavailable(t, "cannot load the XDP program: "+err.Error())
	}
	t.Cleanup(func() { dp.Close() })
	p := slots.DefaultParams()
	p.SessionDuration = time.Hour
	r, err := New(dp, p, xdp.RingSize, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r, dp
}

// segment is one TCP segment from a client port to the VIP.
func segment(t *testing.T, sport uint16, syn bool) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: clientMAC, DstMAC: routerMAC, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
		SrcIP: net.IPv4(192, 168, 0, 10), DstIP: vip.Addr.AsSlice()}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(vip.Port), Seq: 1, SYN: syn, ACK: !syn, Window: 64240}
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		t.Fatal(err)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// send runs a frame through the kernel's program and returns where it
// went: the outer destination of an encapsulated frame, "RST" for a
// refusal, "" otherwise.
func send(t *testing.T, dp *xdp.Router, frame []byte) string {
	t.Helper()
	out := make([]byte, len(frame)+64)
	opts := ebpf.RunOptions{Data: frame, DataOut: out}
	ret, err := dp.Program().Run(&opts)
	if err != nil {
		t.Fatal(err)
	}
	if ret != 3 { // XDP_TX: both the encapsulated frame and a RST
		return ""
	}
	p := gopacket.NewPacket(opts.DataOut, layers.LayerTypeEthernet, gopacket.Default)
	if ipip, ok := p.Layers()[1].(*layers.IPv4); ok && ipip.Protocol == layers.IPProtocolIPv4 {
		return ipip.DstIP.String()
	}
	if tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok && tcp.RST {
		return "RST"
	}
	return ""
}

func TestRouterBalancesOnFreeSlots(t *testing.T) {
	r, dp := loaded(t)
	ctx := context.Background()
	svc := Service{Name: "web", VIP: vip, Instances: []Instance{inst("a", 1), inst("b", 2), inst("c", 3)}}
	if err := r.SetService(ctx, svc); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	report := func(id string, max, free int) {
		t.Helper()
		if err := r.Observe("web", id, slots.Report{Max: max, Available: free, MeasuredAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	report("a", 10, 10)
	report("b", 50, 50)
	report("c", 200, 100)
	if err := r.Rebuild(ctx, now); err != nil {
		t.Fatal(err)
	}
	view, err := r.View(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	var total uint32
	for _, in := range view[0].Instances {
		total += in.Estimate.Weight
	}
	share := map[string]float64{}
	for _, in := range view[0].Instances {
		want := float64(in.Estimate.Weight) / float64(total) * xdp.RingSize
		if math.Abs(float64(in.Entries)-want) > 1 {
			t.Fatalf("%s holds %d entries for weight %d of %d, want %.1f", in.ID, in.Entries, in.Estimate.Weight, total, want)
		}
		share[in.ID] = float64(in.Entries) / xdp.RingSize
	}

	// New sessions land in proportion to the entries.
	rng := rand.New(rand.NewPCG(1, 2))
	landed := map[string]int{}
	firstC := uint16(0)
	const n = 3000
	for range n {
		sport := uint16(1024 + rng.IntN(60000))
		to := send(t, dp, segment(t, sport, true))
		landed[to]++
		if to == "10.1.0.3" && firstC == 0 {
			firstC = sport
		}
	}
	t.Logf("table shares %v, new sessions %v", share, landed)
	for addr, id := range map[string]string{"10.1.0.1": "a", "10.1.0.2": "b", "10.1.0.3": "c"} {
		if got := float64(landed[addr]) / n; math.Abs(got-share[id]) > 0.03 {
			t.Errorf("%s got %.3f of new sessions, its table share is %.3f", id, got, share[id])
		}
	}

	// Draining c: no new session goes there, its established one stays.
	if err := r.Drain("web", "c", true); err != nil {
		t.Fatal(err)
	}
	if err := r.Rebuild(ctx, now); err != nil {
		t.Fatal(err)
	}
	for range 500 {
		to := send(t, dp, segment(t, uint16(1024+rng.IntN(60000)), true))
		if to == "10.1.0.3" {
			t.Fatal("a new session went to a draining instance")
		}
		landed[to]++
	}
	if to := send(t, dp, segment(t, firstC, false)); to != "10.1.0.3" {
		t.Fatalf("an established session of the draining instance went to %q", to)
	}

	// Every instance full, holding every session it was sent (so they are
	// not short-lived: see slots' measured session length): refused with
	// a RST, then an overflow route takes new sessions.
	later := now.Add(100 * time.Millisecond)
	for addr, id := range map[string]string{"10.1.0.1": "a", "10.1.0.2": "b", "10.1.0.3": "c"} {
		held := landed[addr] + map[string]int{"c": 100}[id]
		if err := r.Observe("web", id, slots.Report{Max: held, Available: 0, MeasuredAt: later}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Rebuild(ctx, later); err != nil {
		t.Fatal(err)
	}
	if to := send(t, dp, segment(t, 50001, true)); to != "RST" {
		t.Fatalf("no free slot anywhere: new session went to %q, want a RST", to)
	}
	svc.Overflow = &Instance{ID: "remote", Addr: netip.MustParseAddr("172.16.0.9"), NextHopMAC: mac(9)}
	if err := r.SetService(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if to := send(t, dp, segment(t, 50002, true)); to != "172.16.0.9" {
		t.Fatalf("no free slot, overflow known: new session went to %q", to)
	}
}

func TestSetServiceRefusesBadInput(t *testing.T) {
	r, _ := loaded(t)
	ctx := context.Background()
	for name, s := range map[string]Service{
		"no name":      {VIP: vip, Instances: []Instance{inst("a", 1)}},
		"no port":      {Name: "x", VIP: xdp.VIP{Addr: vip.Addr, Proto: xdp.TCP}},
		"duplicate id": {Name: "x", VIP: vip, Instances: []Instance{inst("a", 1), inst("a", 2)}},
		"no MAC":       {Name: "x", VIP: vip, Instances: []Instance{{ID: "a", Addr: vip.Addr}}},
	} {
		if err := r.SetService(ctx, s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := r.Observe("nope", "a", slots.Report{}); err == nil {
		t.Error("a report for an unknown service was accepted")
	}
}

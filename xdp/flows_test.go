package xdp

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/stitchnfv/stitch/xdp/internal/testprog"
)

// Every prefix of a valid frame: the kernel refuses frames shorter than an
// Ethernet header (EINVAL), longer ones are passed untouched unless whole.
func TestTruncated(t *testing.T) {
	r := newRouter(t)
	setup(t, r)
	frames := map[string]pkt{
		"ipv4 tcp":      {src: client4, dst: vip4.Addr, sport: 1, dport: 80, proto: TCP, flags: "S", payload: []byte("abc")},
		"ipv4 udp":      {src: client4, dst: vip4u.Addr, sport: 1, dport: 53, proto: UDP, payload: []byte("abc")},
		"ipv6 udp vlan": {src: client6, dst: vip6u.Addr, sport: 1, dport: 443, proto: UDP, vlan: 9, payload: []byte("abc")},
		"ipv6 tcp":      {src: client6, dst: vip6.Addr, sport: 1, dport: 443, proto: TCP, flags: "A", payload: []byte("abc")},
		"no backend":    {src: client4, dst: empty.Addr, sport: 1, dport: 80, proto: TCP, flags: "S"},
	}
	passed := 0
	for name, p := range frames {
		full := p.frame(t)
		for n := 0; n <= len(full); n++ {
			in := append([]byte(nil), full[:n]...)
			out := make([]byte, n+512)
			opts := ebpf.RunOptions{Data: in, DataOut: out}
			act, err := r.Program().Run(&opts)
			if n < 14 {
				if err == nil {
					t.Errorf("%s[:%d]: the kernel ran a frame shorter than Ethernet (verdict %d)", name, n, act)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s[:%d]: %v", name, n, err)
			}
			if n == len(full) {
				if act != xdpTX {
					t.Errorf("%s whole: verdict %d, want TX", name, act)
				}
				continue
			}
			if act != xdpPass {
				t.Errorf("%s[:%d]: verdict %d, want PASS", name, n, act)
			}
			diff(t, name+" truncated output", opts.DataOut, in)
			passed++
		}
	}
	c, err := r.Counters(context.Background())
	must(t, err)
	// Frames cut inside the Ethernet header or before the VLAN tag ends are
	// not counted (nothing says they are IP), every other cut is.
	if c.Global.Truncated == 0 || c.Global.Truncated > uint64(passed) {
		t.Errorf("truncated counter %d for %d passed frames", c.Global.Truncated, passed)
	}
}

// A TCP flow keeps its backend through a table swap; a new flow follows
// the new table; batched entry updates are seen by the next packet.
func TestConnTableAndSwap(t *testing.T) {
	ctx := context.Background()
	r := newRouter(t)
	tables := setup(t, r)
	be := testBackends()

	syn := pkt{src: client4, dst: vip4.Addr, sport: 50000, dport: 80, proto: TCP, flags: "S", seq: 1}
	ack := syn
	ack.flags, ack.seq, ack.ack, ack.payload = "A", 2, 1, []byte("hello")
	first := tables[id4][Slot(syn.tuple())]
	_, out := run(t, r.Program(), syn.frame(t))
	diff(t, "syn", out, encapsulated(t, syn, be[first]))

	// Every slot now points elsewhere.
	moved := (first + 1) % 8
	must(t, r.SwapTable(ctx, id4, table(func(uint32) uint32 { return moved })))
	checkRing(t, r, id4, table(func(uint32) uint32 { return moved }))
	act, out := run(t, r.Program(), ack.frame(t))
	if act != xdpTX {
		t.Fatalf("established ack: verdict %d", act)
	}
	diff(t, "established flow after swap", out, encapsulated(t, ack, be[first]))

	// An ACK with no connection entry follows the table (no entry made).
	stray := ack
	stray.sport = 50001
	_, out = run(t, r.Program(), stray.frame(t))
	diff(t, "stray ack", out, encapsulated(t, stray, be[moved]))

	// A SYN always starts afresh, even on a known tuple.
	_, out = run(t, r.Program(), syn.frame(t))
	diff(t, "new syn on the same tuple", out, encapsulated(t, syn, be[moved]))

	// Batched update of the slot of a new UDP flow.
	u := pkt{src: client4, dst: vip4u.Addr, sport: 50002, dport: 53, proto: UDP, payload: []byte("x")}
	target := (moved + 3) % 8
	must(t, r.UpdateEntries(ctx, id4, map[uint32]uint32{Slot(u.tuple()): target, 0: 1, 1: 2}))
	_, out = run(t, r.Program(), u.frame(t))
	diff(t, "udp after batched update", out, encapsulated(t, u, be[target]))
	want := table(func(uint32) uint32 { return moved })
	want[Slot(u.tuple())], want[0], want[1] = target, 1, 2
	checkRing(t, r, id4, want)

	// UDP flows are tracked too: it stays after its slot changes again.
	must(t, r.UpdateEntries(ctx, id4, map[uint32]uint32{Slot(u.tuple()): moved}))
	_, out = run(t, r.Program(), u.frame(t))
	diff(t, "udp established", out, encapsulated(t, u, be[target]))

	// Deleting its backend re-places the flow by the table.
	must(t, r.DeleteBackend(ctx, target))
	_, out = run(t, r.Program(), u.frame(t))
	diff(t, "udp after its backend was deleted", out, encapsulated(t, u, be[moved]))

	// No table at all: refused.
	must(t, r.DeleteTable(ctx, id4))
	act, _ = run(t, r.Program(), stray.frame(t))
	if act != xdpTX {
		t.Fatalf("no table: verdict %d, want TX (RST)", act)
	}
	if err := r.UpdateEntries(ctx, id4, map[uint32]uint32{1: 1}); err == nil {
		t.Error("UpdateEntries without a table succeeded")
	}
	if err := r.SwapTable(ctx, id4, make([]uint32, 10)); err == nil {
		t.Error("SwapTable with 10 slots succeeded")
	}
}

// The Go FlowHash equals the C flow_hash (compiled from the router's own
// header) on random tuples, IPv4 and IPv6.
func TestFlowHashTwin(t *testing.T) {
	newRouter(t) // root + BPF gate
	var objs testprog.HashObjects
	must(t, testprog.LoadHashObjects(&objs, nil))
	defer objs.Close()
	const n = 4096
	rng := rand.New(rand.NewPCG(1, 2))
	tuples := make([]FiveTuple, n)
	keys := make([]uint32, n)
	flows := make([]testprog.HashFlow, n)
	for i := range tuples {
		var tu FiveTuple
		if i%2 == 0 {
			tu.Src = netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())})
			tu.Dst = netip.AddrFrom4([4]byte{10, 0, byte(rng.Uint32()), byte(rng.Uint32())})
		} else {
			var s, d [16]byte
			for j := range s {
				s[j], d[j] = byte(rng.Uint32()), byte(rng.Uint32())
			}
			tu.Src, tu.Dst = netip.AddrFrom16(s), netip.AddrFrom16(d)
		}
		tu.SrcPort, tu.DstPort = uint16(rng.Uint32()), uint16(rng.Uint32())
		tu.Proto = []Proto{TCP, UDP}[rng.IntN(2)]
		tuples[i], keys[i] = tu, uint32(i)
		a, b := addrOf(tu.Src), addrOf(tu.Dst)
		flows[i] = testprog.HashFlow{Sport: tu.SrcPort, Dport: tu.DstPort, Proto: uint8(tu.Proto)}
		flows[i].Src.W, flows[i].Dst.W = a.W, b.W
	}
	if _, err := objs.FlowsIn.BatchUpdate(keys, flows, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := objs.HashFlows.Run(&ebpf.RunOptions{Data: make([]byte, 14)}); err != nil {
		t.Fatal(err)
	}
	got := make([]uint32, n)
	var cursor ebpf.MapBatchCursor
	if cnt, err := objs.HashesOut.BatchLookup(&cursor, keys, got, nil); cnt != n {
		t.Fatalf("read %d hashes: %v", cnt, err)
	}
	bad := 0
	for i, tu := range tuples {
		if want := FlowHash(tu); got[i] != want {
			if bad++; bad < 5 {
				t.Errorf("%+v: C %#x, Go %#x", tu, got[i], want)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d hashes differ", bad, n)
	}
}

// checkRing reads the whole table in use of a VIP id back, through the
// generation the program reads.
func checkRing(t *testing.T, r *Router, id uint32, want []uint32) {
	t.Helper()
	var gen uint32
	if err := r.objs.TableGen.Lookup(id, &gen); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	m := r.rings[id].maps[gen]
	r.mu.Unlock()
	keys := make([]uint32, RingSize)
	got := make([]uint32, RingSize)
	var cursor ebpf.MapBatchCursor
	n, err := m.BatchLookup(&cursor, keys, got, nil)
	if n != RingSize {
		t.Fatalf("read %d slots: %v", n, err)
	}
	for i := range keys {
		if keys[i] != uint32(i) || got[i] != want[i] {
			t.Fatalf("slot %d (key %d) = %d, want %d", i, keys[i], got[i], want[i])
		}
	}
}

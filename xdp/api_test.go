package xdp

import (
	"context"
	"net"
	"net/netip"
	"testing"
)

// SwapTables switches several VIP ids in one batch; bad input is refused
// before anything changes.
func TestSwapTablesAndValidation(t *testing.T) {
	ctx := context.Background()
	r := newRouter(t)
	setup(t, r)
	a := table(func(s uint32) uint32 { return s % 3 })
	b := table(func(s uint32) uint32 { return 16 + s%2 })
	must(t, r.SwapTables(ctx, map[uint32][]uint32{id4: a, id6: b}))
	checkRing(t, r, id4, a)
	checkRing(t, r, id6, b)
	u := pkt{src: client6, dst: vip6u.Addr, sport: 7, dport: 443, proto: UDP}
	_, out := run(t, r.Program(), u.frame(t))
	diff(t, "after batch swap", out, encapsulated(t, u, testBackends()[b[Slot(u.tuple())]]))

	bad := table(func(uint32) uint32 { return MaxBackends })
	if err := r.SwapTables(ctx, map[uint32][]uint32{id4: a, id6: bad}); err == nil {
		t.Error("a table naming backend MaxBackends was accepted")
	}
	checkRing(t, r, id6, b)

	mac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	for name, err := range map[string]error{
		"vip proto":      r.SetVIP(ctx, VIP{vip4.Addr, 1, 1}, VIPConfig{}),
		"vip id":         r.SetVIP(ctx, vip4, VIPConfig{ID: MaxVIPs}),
		"vip fallback":   r.SetVIP(ctx, vip4, VIPConfig{Fallback: MaxBackends}),
		"backend index":  r.SetBackend(ctx, MaxBackends, Backend{Addr: client4, NextHopMAC: mac}),
		"backend mac":    r.SetBackend(ctx, 1, Backend{Addr: client4, NextHopMAC: mac[:3]}),
		"backend addr":   r.SetBackend(ctx, 1, Backend{NextHopMAC: mac}),
		"entries slot":   r.UpdateEntries(ctx, id4, map[uint32]uint32{RingSize: 1}),
		"entries value":  r.UpdateEntries(ctx, id4, map[uint32]uint32{1: MaxBackends}),
		"interface mac":  r.SetInterfaceMAC(ctx, 1, mac[:5]),
		"table vip id":   r.SwapTable(ctx, MaxVIPs, a),
		"ipv6 as router": func() error { _, err := Load(ctx, Options{RouterIPv4: netip.MustParseAddr("::1")}); return err }(),
		"no router address": func() error {
			bare, err := Load(ctx, Options{})
			must(t, err)
			defer bare.Close()
			return bare.SetBackend(ctx, 1, Backend{Addr: client4, NextHopMAC: mac})
		}(),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}

	// Deleting a VIP makes its packets pass; the address stays a VIP
	// address while another VIP uses it.
	must(t, r.DeleteVIP(ctx, vip6u))
	act, _ := run(t, r.Program(), u.frame(t))
	if act != xdpPass {
		t.Errorf("deleted VIP: verdict %d, want PASS", act)
	}
	r.mu.Lock()
	n := r.addrs[vip6u.Addr]
	r.mu.Unlock()
	if n != 1 {
		t.Errorf("VIP address count %d, want 1 (the TCP VIP remains)", n)
	}
}

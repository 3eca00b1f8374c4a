package xdp

import (
	"context"
	"fmt"

	"github.com/cilium/ebpf"
)

// Counters reads all counters, summed over CPUs.
func (r *Router) Counters(ctx context.Context) (Counters, error) {
	if err := ctx.Err(); err != nil {
		return Counters{}, err
	}
	var c Counters
	var err error
	if c.VIPs, err = readFlowCounters(r.objs.VipStats); err != nil {
		return Counters{}, fmt.Errorf("xdp: read VIP counters: %w", err)
	}
	if c.Backends, err = readFlowCounters(r.objs.BackendStats); err != nil {
		return Counters{}, fmt.Errorf("xdp: read backend counters: %w", err)
	}
	var g []routerGlobalStats
	if err := r.objs.Stats.Lookup(uint32(0), &g); err != nil {
		return Counters{}, fmt.Errorf("xdp: read global counters: %w", err)
	}
	for _, s := range g {
		c.Global.OptionsOrFragments += s.OptionsOrFragments
		c.Global.IPv6ExtHeaders += s.Ipv6ExtHeaders
		c.Global.Truncated += s.Truncated
		c.Global.EncapErrors += s.EncapErrors
	}
	return c, nil
}

func readFlowCounters(m *ebpf.Map) (map[uint32]FlowCounters, error) {
	out := map[uint32]FlowCounters{}
	var (
		key    uint32
		perCPU []routerCounters
	)
	it := m.Iterate()
	for it.Next(&key, &perCPU) {
		var sum FlowCounters
		for _, c := range perCPU {
			sum.Packets += c.Packets
			sum.Bytes += c.Bytes
			sum.NewFlows += c.NewFlows
			sum.Refused += c.Refused
		}
		if sum != (FlowCounters{}) {
			out[key] = sum
		}
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

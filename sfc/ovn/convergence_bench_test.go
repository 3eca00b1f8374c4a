package ovn_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/sfc/ovn"
	"github.com/stitchnfv/stitch/sfc/ovntest"
)

// BenchmarkChainConvergence measures how long a chain update takes to
// reach every chassis. Two chassis joined by a Geneve underlay carry the
// throughFirewall NS (router, three switches, a reroute policy over two
// firewall instances): client and fw0 on hv1, fw1 and web0 on hv2. Each
// iteration applies two updates that remove or add back instance fw0 in the
// policy's next hops, one awaited with WaitHypervisors (nb_cfg bump through
// libovsdb, hv_cfg polled) and one with `ovn-nbctl --wait=hv sync`, and
// reports per-update percentiles in milliseconds:
//
//   - render: Render's wall time (one transaction, until its own update is
//     in the client's cache);
//   - hv-wait: after Render, until hv_cfg reached the bumped nb_cfg;
//   - hv-nbts: the same from ovn-northd's side, hv_cfg_timestamp minus
//     nb_cfg_timestamp (millisecond resolution);
//   - total: Render plus hv-wait, the update as an operator sees it;
//   - nbctl: the `ovn-nbctl --wait=hv sync` call after Render, process
//     start included.
//
// Run it with -run '^$' -bench ChainConvergence -benchtime 50x; it needs
// root and the OVS/OVN host programs (ovntest.RequireChassis).
func BenchmarkChainConvergence(b *testing.B) {
	env := ovntest.Start(b)
	ovntest.RequireChassis(b)
	ctx := b.Context()
	c, err := ovn.Dial(ctx, env.NB(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	both := throughFirewall()
	one := throughFirewall()
	one.Routers[0].Policies[0].Nexthops = one.Routers[0].Policies[0].Nexthops[1:]
	if _, err := c.Render(ctx, nsC, both); err != nil {
		b.Fatal(err)
	}

	hv1 := env.AddChassis(b, "hv1", ovntest.ChassisOptions{Underlay: netip.MustParsePrefix("192.168.100.1/24")})
	hv2 := env.AddChassis(b, "hv2", ovntest.ChassisOptions{Underlay: netip.MustParsePrefix("192.168.100.2/24")})
	ovntest.LinkUnderlay(b, hv1, hv2)
	const prefix = "c0ffee000002-"
	hv1.AttachPort(b, prefix+"client", "0a:00:00:00:01:0a", "10.0.1.10/24")
	hv1.AttachPort(b, prefix+"fw0", "0a:00:00:00:02:0a", "10.0.2.10/24")
	hv2.AttachPort(b, prefix+"fw1", "0a:00:00:00:02:0b", "10.0.2.11/24")
	hv2.AttachPort(b, prefix+"web0", "0a:00:00:00:04:0a", "10.0.4.10/24")
	env.NBCtl(b, "--wait=hv", "--timeout=10", "sync")

	// update renders want, which must differ from NB's state in the
	// policy's next hops alone, and returns Render's wall time.
	update := func(want ovn.Network) time.Duration {
		b.Helper()
		start := time.Now()
		ch, err := c.Render(ctx, nsC, want)
		d := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if len(ch.Updated) != 1 || len(ch.Created)+len(ch.Deleted) != 0 {
			b.Fatalf("a next-hop change rendered as %s, want one updated policy", ch.String())
		}
		return d
	}
	var render, wait, nbts, total, nbctl []time.Duration
	for i := 0; b.Loop(); i++ {
		next := []ovn.Network{one, both}
		r := update(next[0])
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		start := time.Now()
		conv, err := c.WaitHypervisors(wctx)
		w := time.Since(start)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		render, wait, nbts, total = append(render, r), append(wait, w), append(nbts, conv.Hypervisors()), append(total, r+w)

		render = append(render, update(next[1]))
		start = time.Now()
		if _, err := env.Ctl(ctx, "ovn-nbctl", "--db="+env.NB(), "--wait=hv", "--timeout=10", "sync"); err != nil {
			b.Fatal(err)
		}
		nbctl = append(nbctl, time.Since(start))
	}
	for _, m := range []struct {
		name string
		d    []time.Duration
	}{{"render", render}, {"hv-wait", wait}, {"hv-nbts", nbts}, {"total", total}, {"nbctl", nbctl}} {
		b.ReportMetric(percentile(m.d, 50), m.name+"-p50-ms")
		b.ReportMetric(percentile(m.d, 99), m.name+"-p99-ms")
	}
}

// percentile is the p-th percentile of ds in milliseconds (nearest rank).
func percentile(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	i := (p*len(s)+99)/100 - 1
	return float64(s[max(i, 0)]) / float64(time.Millisecond)
}

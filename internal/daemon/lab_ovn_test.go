package daemon

import (
	"context"
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/config"
	"github.com/stitchnfv/stitch/lab"
	"github.com/stitchnfv/stitch/nfvo"
)

// labSites deploys lab/two-site.clab.yml (edge and core joined by a 20 ms
// WAN link carried by stitch-wanrelay) and makes its chassis nodes the
// daemon's sites, so the Geneve tunnels between sites cross the WAN.
func labSites(t testing.TB, cfg *config.Config) {
	t.Helper()
	topo, err := lab.ParseFile(filepath.Join("..", "..", "lab", "two-site.clab.yml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	topo.Name = "ts-" + cfg.VIM.Prefix
	runner := lab.NewRunner(t.TempDir(), nil)
	if _, err := runner.Deploy(context.Background(), topo, lab.DeployOptions{
		RelayCommand: filepath.Join(binDir, "stitch-wanrelay"),
	}); err != nil {
		t.Fatal(err)
	}
	purge := *cfg
	t.Cleanup(func() {
		// The chassis run in the lab's namespaces: stop them first.
		if err := Purge(context.Background(), purge); err != nil {
			t.Error(err)
		}
		if err := runner.Destroy(context.Background(), topo.Name); err != nil {
			t.Error(err)
		}
	})
	capacity := map[string]config.Capacity{}
	for _, s := range cfg.VIM.Sites {
		capacity[s.Name] = s.Capacity
	}
	cfg.VIM.Sites = nil
	for _, n := range topo.SiteNodes() {
		cfg.VIM.Sites = append(cfg.VIM.Sites, config.Site{
			Name: n.Site, NetNS: n.NetNS, EncapIP: n.EncapIP.String(), Capacity: capacity[n.Site],
		})
	}
	if len(cfg.VIM.Sites) != 2 {
		t.Fatalf("lab chassis nodes %+v, want edge and core", topo.SiteNodes())
	}
}

// connectRTT is the median time of a TCP connect from a site to address:
// one round trip.
func connectRTT(t *testing.T, d *Daemon, site, address string) time.Duration {
	t.Helper()
	var rtts []time.Duration
	for range 7 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		start := time.Now()
		conn, err := d.VIM.DialContext(ctx, site, "tcp", address)
		rtt := time.Since(start)
		cancel()
		if err != nil {
			t.Fatalf("connect %s from %s: %v", address, site, err)
		}
		conn.Close()
		rtts = append(rtts, rtt)
	}
	slices.Sort(rtts)
	return rtts[len(rtts)/2]
}

func TestComplexServiceAcrossTheLabWAN(t *testing.T) {
	cfg := ovnTestConfig(t)
	labSites(t, &cfg)
	d, c := startInProcess(t, cfg)
	ctx := context.Background()
	onboardExamples(t, c)
	ns, err := c.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "complex-service", Name: "wan"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := c.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
	done := mustComplete(t, c, op, err)
	t.Logf("instantiate across the WAN: %+v", *done.Stats)
	ns, _ = c.GetNS(ctx, ns.ID)

	trace, err := get(siteHTTP(d, "edge"), sapURL+"/")
	if err != nil || roles(trace) != "fw,lb,web,backend,kvdb" {
		t.Fatalf("request through the SAP: %v, %v", trace, err)
	}

	const delay = 20 * time.Millisecond // two-site.clab.yml's default, each way
	web := net.JoinHostPort(vnfcsOf(ns, "web")[0].Addresses["data"], "8080")
	backend := net.JoinHostPort(vnfcsOf(ns, "backend")[0].Addresses["data"], "8080")
	local, wan := connectRTT(t, d, "edge", web), connectRTT(t, d, "edge", backend)
	t.Logf("TCP connect from edge: to web on edge %s, to a back end on core %s (WAN %s each way)",
		local.Round(10*time.Microsecond), wan.Round(10*time.Microsecond), delay)
	// The lower bound is the physics of the link; the upper one only
	// catches a path that is not the WAN relay's (retransmissions, loops).
	if wan < 2*delay || wan > 2*delay+250*time.Millisecond {
		t.Fatalf("round trip to core %s, want the WAN's %s plus a little", wan, 2*delay)
	}
	if local > delay {
		t.Fatalf("round trip within edge %s: local traffic should not cross the WAN", local)
	}

	op, err = c.Terminate(ctx, ns.ID, nfvo.TerminateRequest{GracefulTerminationTimeout: 2})
	mustComplete(t, c, op, err)
	if rows := nsRows(t, d, ns.ID); len(rows) != 0 {
		t.Fatalf("NB rows of the NS left: %v", rows)
	}
	leaks, err := d.VIM.Leaks(ctx)
	if err != nil || len(leaks) != 0 {
		t.Fatalf("leaks after terminate: %v, %v", leaks, err)
	}
}

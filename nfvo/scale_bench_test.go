package nfvo

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/store"
	"github.com/stitchnfv/stitch/vnfm"
)

// BenchmarkStoreWith1000Instances measures listing and showing NS instances
// (and JSON-encoding the answer, as the API does) with 1,000 instantiated
// NS instances of the complex example (7 VNFCs each) in the store, and the
// process's memory.
//
//	go test -run NONE -bench StoreWith1000 -benchtime 1x ./nfvo/
func BenchmarkStoreWith1000Instances(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	o, ids, dir := thousandInstantiated(b, n, Config{})
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	dbInfo, _ := os.Stat(filepath.Join(dir, "stitch.db"))

	b.ResetTimer()
	var list, show []time.Duration
	for range b.N {
		for range 200 {
			start := time.Now()
			all, err := o.ListNS(ctx)
			if err != nil || len(all) != n {
				b.Fatalf("list: %d, %v", len(all), err)
			}
			if _, err := json.Marshal(all); err != nil {
				b.Fatal(err)
			}
			list = append(list, time.Since(start))
		}
		for i := range 2000 {
			start := time.Now()
			ns, err := o.GetNS(ctx, ids[(i*7919)%n])
			if err != nil || len(ns.Vnfcs) != 7 {
				b.Fatalf("show: %d VNFCs, %v", len(ns.Vnfcs), err)
			}
			if _, err := json.Marshal(ns); err != nil {
				b.Fatal(err)
			}
			show = append(show, time.Since(start))
		}
	}
	b.StopTimer()
	b.ReportMetric(pct(list, 50), "list-p50-ms")
	b.ReportMetric(pct(list, 99), "list-p99-ms")
	b.ReportMetric(pct(show, 50), "show-p50-ms")
	b.ReportMetric(pct(show, 99), "show-p99-ms")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(rssKiB())/1024, "rss-MiB")
	b.ReportMetric(float64(dbInfo.Size())/(1<<20), "db-MiB")
}

// thousandInstantiated is an orchestrator (cfg, with a store and a VNFM of
// its own) holding n instantiated NS instances of the complex example, as
// an instantiation leaves them in the store; it returns their ids and the
// state directory.
func thousandInstantiated(b *testing.B, n int, cfg Config) (*Orchestrator, []string, string) {
	ctx := context.Background()
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "stitch.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if cfg.VNFM, err = vnfm.New(nil, dir, nil); err != nil {
		b.Fatal(err)
	}
	cfg.Store = st
	o, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	onboardExampleFiles(b, o)
	ids := make([]string, 0, n)
	for i := range n {
		ns, err := o.CreateNS(ctx, CreateNsRequest{NsdID: "complex-service", Name: fmt.Sprintf("ns-%d", i)})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, ns.ID)
		if err := seedInstantiated(ctx, st, ns); err != nil {
			b.Fatal(err)
		}
	}
	return o, ids, dir
}

func pct(ds []time.Duration, p int) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[(len(s)-1)*p/100].Microseconds()) / 1000
}

func rssKiB() int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			v, _ := strconv.Atoi(f[1])
			return v
		}
	}
	return 0
}

func onboardExampleFiles(b testing.TB, o *Orchestrator) {
	for _, kind := range []string{"vnfd", "nsd"} {
		files, _ := filepath.Glob(filepath.Join("..", "examples", kind, "*.yaml"))
		for _, f := range files {
			doc, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			if kind == "vnfd" {
				_, err = o.OnboardVNFD(context.Background(), doc)
			} else {
				_, err = o.OnboardNSD(context.Background(), doc)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// seedInstantiated writes what an instantiation of the complex example
// leaves in the store, without running anything.
func seedInstantiated(ctx context.Context, st store.Store, ns NsInstance) error {
	return st.Update(ctx, func(tx store.Tx) error {
		ns.State, ns.Status, ns.FlavourID = NsInstantiated, "HEALTHY", "default"
		ns.Desired = Desired{Instantiated: true, Replicas: map[string]int{
			"fw/fw": 1, "lb/lb": 1, "web/web": 1, "backend/backend": 3, "kvdb/kvdb": 1}}
		if err := store.PutJSON(tx, bucketNS, ns.ID, ns); err != nil {
			return err
		}
		i := 0
		for prof, count := range map[string]int{"fw": 1, "lb": 1, "web": 1, "backend": 3, "kvdb": 1} {
			for k := range count {
				i++
				v := Vnfc{
					ID: vnfcName(ns.ID, prof, prof, false, k), NsID: ns.ID, Profile: prof, VnfdID: "stitch-" + prof,
					VDU: prof, Index: k, Site: "core", State: VnfcHealthy, OpID: "op",
					Placement: "site core: score 0.90, allowed [core], 28/32 vCPU free, 30976/32768 MB free, 996/1000 instances free after placing; rejected: edge not in allowed sites",
					Addresses: map[string]string{"data": fmt.Sprintf("10.10.1.%d", 15+i)}, Slots: 20,
					CreatedAt: time.Now(), HealthyAt: time.Now(),
				}
				if err := store.PutJSON(tx, bucketVnfc, ns.ID+"/"+v.ID, v); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// BenchmarkBackgroundWith1000Instances measures one pass of each periodic
// walk over every NS instance — the autoscaler's evaluation (every 250 ms),
// the health-probe scheduling and the service-router targets (each second
// and every 200 ms) — with 1,000 instantiated NS instances, side by side
// with listing them all. A pass must stay well under its period.
//
//	go test -run NONE -bench BackgroundWith1000 -benchtime 20x ./nfvo/
func BenchmarkBackgroundWith1000Instances(b *testing.B) {
	ctx := context.Background()
	o, _, _ := thousandInstantiated(b, 1000, Config{Router: &RouterConfig{Program: "stitch-router"}})
	all, err := o.ListNS(ctx)
	if err != nil {
		b.Fatal(err)
	}
	walks := []struct {
		name string
		pass func() error
	}{
		{"list", func() error { _, err := o.ListNS(ctx); return err }},
		{"autoscaler", func() error {
			nss, err := o.ListNS(ctx) // what RunAutoscaler does each tick
			for _, ns := range nss {
				if p := o.plans.get(planKey(ns, ns.FlavourID)); p != nil && len(p.df.ScalingPolicies) == 0 {
					continue
				}
				if _, _, err := o.evaluatePolicies(ctx, ns.ID, time.Now()); err != nil {
					return err
				}
			}
			return err
		}},
		{"probes", func() error { _, err := o.dueProbes(ctx, time.Now()); return err }},
		{"router-targets", func() error {
			for _, ns := range all {
				if _, err := o.routerTargets(ctx, ns.ID); err != nil {
					return err
				}
			}
			return nil
		}},
	}
	times := map[string][]time.Duration{}
	b.ResetTimer()
	for range b.N {
		for _, w := range walks {
			start := time.Now()
			if err := w.pass(); err != nil {
				b.Fatal(err)
			}
			times[w.name] = append(times[w.name], time.Since(start))
		}
	}
	b.StopTimer()
	for _, w := range walks {
		b.ReportMetric(pct(times[w.name], 50), w.name+"-p50-ms")
	}
}

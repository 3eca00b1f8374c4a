package local

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/vim"
)

// BenchmarkCreateInstance measures creating one instance (namespace, a veth
// on a bridge, address, route, cgroup, process, two durable record writes)
// next to 0 and N running ones (N = $STITCH_BENCH_EXISTING, default 100):
// the cost must not grow with N.
//
// Deleting network namespaces is asynchronous in the kernel, and while it
// frees them it holds the RTNL lock and floods RCU, which slows every
// netlink call and cgroup v1 move on the host. Each timed run therefore
// starts once that cleanup has settled, and deletion is never timed.
func BenchmarkCreateInstance(b *testing.B) {
	existing := 100
	if v := os.Getenv("STITCH_BENCH_EXISTING"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			b.Fatalf("STITCH_BENCH_EXISTING=%q: want a non-negative integer", v)
		}
		existing = n
	}
	ctx := context.Background()
	for _, n := range []int{0, existing} {
		// Set up once per size: the sub-benchmark body runs several times
		// while the framework picks b.N.
		d := newDriver(b)
		mustNetwork(b, d, "n", "10.78.0.0/16", "a")
		// The instances already running sit on networks of their own, 250
		// to a network, as many services' would (a Linux bridge takes 1,024
		// ports at most).
		for i := range n {
			net := fmt.Sprintf("pre%d", i/250)
			if i%250 == 0 {
				mustNetwork(b, d, net, fmt.Sprintf("10.79.%d.0/22", 4*(i/250)), "a")
			}
			mustCreate(b, d, sleeper(fmt.Sprintf("pre%d", i), vim.PortSpec{Network: net}))
		}
		run := 0
		b.Run(fmt.Sprintf("existing=%d", n), func(b *testing.B) {
			run++
			waitNetnsCleanup(b)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				name := fmt.Sprintf("bench%d-%d", run, i)
				if _, err := d.CreateInstance(ctx, sleeper(name, vim.PortSpec{Network: "n"})); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			for i := 0; i < b.N; i++ {
				if err := d.DeleteInstance(ctx, fmt.Sprintf("bench%d-%d", run, i), 0); err != nil {
					b.Fatal(err)
				}
			}
		})
		if err := d.Destroy(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// waitNetnsCleanup waits (up to a minute) until the kernel's count of
// network namespaces, live or being freed, stops falling.
func waitNetnsCleanup(b *testing.B) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	last, stable := -1, 0
	for time.Now().Before(deadline) && stable < 3 {
		n := netnsSlabObjects()
		if n < 0 {
			time.Sleep(time.Second) // no slabinfo: just give it a moment
			return
		}
		if n == last {
			stable++
		} else {
			stable = 0
		}
		last = n
		time.Sleep(100 * time.Millisecond)
	}
}

// netnsSlabObjects reads the active net_namespace objects of /proc/slabinfo,
// -1 when unavailable.
func netnsSlabObjects() int {
	f, err := os.Open("/proc/slabinfo")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 && fields[0] == "net_namespace" {
			n, err := strconv.Atoi(fields[1])
			if err != nil {
				return -1
			}
			return n
		}
	}
	return -1
}

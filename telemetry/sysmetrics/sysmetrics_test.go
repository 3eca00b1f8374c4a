package sysmetrics

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/telemetry"
)

func leaf(t *testing.T, tree *telemetry.Tree, path string) telemetry.Value {
	t.Helper()
	got := tree.Get(telemetry.MustParsePath(path))
	if len(got) != 1 {
		t.Fatalf("%s: %d leaves", path, len(got))
	}
	return got[0].Value
}

func TestPublish(t *testing.T) {
	tree := telemetry.NewTree()
	c := NewCollector(func(name string) bool { return name == "lo" })
	if err := c.Publish(tree); err != nil {
		t.Fatal(err)
	}
	if rss := leaf(t, tree, "/system/memory/state/used").UintValue(); rss == 0 {
		t.Error("resident memory is 0")
	}
	phys := leaf(t, tree, "/system/memory/state/physical").UintValue()
	if used := leaf(t, tree, "/system/memory/state/used").UintValue(); phys < used {
		t.Errorf("physical %d < used %d", phys, used)
	}
	if got := tree.Get(telemetry.MustParsePath("/system/state/cpu-utilization")); len(got) != 0 {
		t.Errorf("cpu-utilization after one round (it is a rate): %v", got)
	}
	if s := leaf(t, tree, "/interfaces/interface[name=lo]/state/admin-status").StringValue(); s != "UP" {
		t.Errorf("lo admin-status = %q", s)
	}
	if n := len(tree.Get(telemetry.MustParsePath("/interfaces/interface[name=*]/state/oper-status"))); n != 1 {
		t.Errorf("the filter let %d interfaces through, want only lo", n)
	}
	before := leaf(t, tree, "/interfaces/interface[name=lo]/state/counters/in-octets").UintValue()

	// Burn some CPU and push bytes through lo, then publish again.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	go func() {
		conn, err := lis.Accept()
		if err == nil {
			buf := make([]byte, 1<<16)
			for {
				if _, err := conn.Read(buf); err != nil {
					return
				}
			}
		}
	}()
	conn, err := net.Dial("tcp", lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 1<<20)
	if _, err := conn.Write(payload); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
		// spin: CPU time for the next round to measure
	}

	if err := c.Publish(tree); err != nil {
		t.Fatal(err)
	}
	after := leaf(t, tree, "/interfaces/interface[name=lo]/state/counters/in-octets").UintValue()
	if after < before+uint64(len(payload)) {
		t.Errorf("lo in-octets %d → %d after sending %d bytes", before, after, len(payload))
	}
	cpu := leaf(t, tree, "/system/state/cpu-utilization").FloatValue()
	if cpu <= 0 || cpu > 100 {
		t.Errorf("cpu-utilization = %v after a busy loop, want (0, 100]", cpu)
	}
}

func TestVanishedInterfaceIsDeleted(t *testing.T) {
	tree := telemetry.NewTree()
	c := NewCollector(nil)
	// Pretend an earlier round published an interface that is gone now.
	c.published["gone0"] = true
	if err := tree.Set("/interfaces/interface[name=gone0]/state/oper-status", "UP"); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(tree); err != nil {
		t.Fatal(err)
	}
	if got := tree.Get(telemetry.MustParsePath("/interfaces/interface[name=gone0]")); len(got) != 0 {
		t.Errorf("vanished interface still published: %v", got)
	}
	if got := tree.Get(telemetry.MustParsePath("/interfaces/interface[name=lo]")); len(got) == 0 {
		t.Error("lo not published")
	}
}

func TestRunPublishesUntilCancelled(t *testing.T) {
	tree := telemetry.NewTree()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, tree, Options{Interval: 20 * time.Millisecond}) }()
	// Poll for the rate leaf, which needs two rounds.
	for deadline := time.Now().Add(20 * time.Second); ; {
		if len(tree.Get(telemetry.MustParsePath("/system/state/cpu-utilization"))) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not publish two rounds")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

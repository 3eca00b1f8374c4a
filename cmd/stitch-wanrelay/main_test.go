package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/testenv"
	"github.com/stitchnfv/stitch/lab"
)

func TestParseArgs(t *testing.T) {
	t.Parallel()
	c, err := parseArgs([]string{"--netns", "w", "--a", "wanA", "--b", "wanB",
		"--delay", "20ms", "--jitter", "2ms", "--loss", "0.1%", "--rate", "100mbit"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	want := lab.Impairment{Delay: 20 * time.Millisecond, Jitter: 2 * time.Millisecond, LossPercent: 0.1, RateBits: 100e6}
	if c.imp != want || c.netns != "w" || c.a != "wanA" || c.b != "wanB" {
		t.Errorf("parsed %+v, want %+v between wanA and wanB in w", c, want)
	}
	for _, bad := range [][]string{
		{"--a", "x"},
		{"--a", "x", "--b", "x"},
		{"--a", "x", "--b", "y", "--delay", "20"},
		{"--a", "x", "--b", "y", "--jitter", "2ms"},
		{"--a", "x", "--b", "y", "--rate", "100"},
		{"--a", "x", "--b", "y", "--loss", "101%"},
		{"--a", "x", "--b", "y", "extra"},
	} {
		if _, err := parseArgs(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("parseArgs(%q) accepted", bad)
		}
	}
}

// TestRunUntilCancelled relays between a veth pair in a scratch namespace
// and checks that run reports readiness, then returns nil once its context
// ends (as on SIGTERM).
func TestRunUntilCancelled(t *testing.T) {
	t.Parallel()
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "ip")
	ns := "swr-test-" + strings.ReplaceAll(t.Name(), "/", "-") + "-" + strconv.Itoa(os.Getpid())
	sh := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	sh("netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	sh("-n", ns, "link", "add", "wanA", "type", "veth", "peer", "name", "wanB")
	sh("-n", ns, "link", "set", "wanA", "up")
	sh("-n", ns, "link", "set", "wanB", "up")

	ready := filepath.Join(t.TempDir(), "ready")
	ctx, cancel := context.WithCancel(t.Context())
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--netns", ns, "--a", "wanA", "--b", "wanB", "--delay", "5ms", "--ready-file", ready}, &stderr)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no ready file after 5s")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

package local

import (
	"context"
	"encoding/json"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/vim"
)

// TestDaemonKilled runs the driver in a child process ("the daemon"),
// SIGKILLs it, and adopts its instances from this process: they keep
// running, are reachable, report their exit and can be deleted.
func TestDaemonKilled(t *testing.T) {
	t.Parallel()
	echo := echoBinary(t)
	cfg := testConfig(t, SiteConfig{Name: "a"}, SiteConfig{Name: "b"})
	runAndKill(t, "TestHelperDaemon", "STITCH_LOCAL_DAEMON", map[string]string{
		"prefix": cfg.Prefix, "stateDir": cfg.StateDir, "echo": echo,
	})

	ctx := context.Background()
	d := openDriver(t, cfg)
	srv, err := d.GetInstance(ctx, "srv")
	if err != nil || srv.Status != vim.StatusRunning {
		t.Fatalf("srv after the daemon died = %+v, %v", srv, err)
	}
	if g := readGreeting(t, d, "a", "tcp", srv.Ports[0].IP+":7000"); g != "survivor" {
		t.Fatalf("greeting = %q", g)
	}
	requireNoLeaks(t, d)
	// Not our child: its exit is noticed, the code is unknown (-1).
	pid := instancePid(t, d, "sleeper")
	syscall.Kill(pid, syscall.SIGKILL)
	if got := waitStatus(t, d, "sleeper", vim.StatusExited, 10*time.Second); got.ExitCode != -1 {
		t.Fatalf("exit code of an adopted process = %d, want -1", got.ExitCode)
	}
	for _, name := range []string{"srv", "sleeper"} {
		if err := d.DeleteInstance(ctx, name, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	requireNoLeaks(t, d)
}

// TestHelperDaemon is the daemon of TestDaemonKilled; it does nothing in a
// normal run.
func TestHelperDaemon(t *testing.T) {
	env := os.Getenv("STITCH_LOCAL_DAEMON")
	if env == "" {
		return // only runs as TestDaemonKilled's child
	}
	var p map[string]string
	if err := json.Unmarshal([]byte(env), &p); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := New(ctx, Config{Prefix: p["prefix"], StateDir: p["stateDir"], Sites: []SiteConfig{{Name: "a"}, {Name: "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	mustNetwork(t, d, "n", "10.77.14.0/24", "a", "b")
	mustCreate(t, d, vim.InstanceSpec{Name: "srv", Site: "b", Program: p["echo"], Args: []string{"-listen", ":7000", "-reply", "survivor"},
		Ports: []vim.PortSpec{{Network: "n"}}})
	mustCreate(t, d, sleeper("sleeper", vim.PortSpec{Network: "n"}))
	os.Stdout.WriteString("DAEMON READY\n")
	select {} // until killed
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

package local

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/internal/testenv"
	"github.com/stitchnfv/stitch/vim"
)

// helperDir holds the go-built test helpers for the whole test binary.
var helperDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stitch-local-test-")
	if err != nil {
		panic(err)
	}
	helperDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var buildEcho = sync.OnceValues(func() (string, error) {
	out := filepath.Join(helperDir, "echo")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/echo")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New(err.Error() + ": " + string(b))
	}
	return out, nil
})

// echoBinary returns the path of the TCP helper (testdata/echo).
func echoBinary(t testing.TB) string {
	t.Helper()
	testenv.RequireRoot(t) // only root tests need it
	testenv.RequireCommands(t, "go")
	p, err := buildEcho()
	if err != nil {
		t.Fatalf("build echo helper: %v", err)
	}
	return p
}

// newPrefix picks a random 4-character prefix no namespace uses yet.
func newPrefix(t testing.TB) string {
	const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	for {
		b := make([]byte, 4)
		rand.Read(b)
		for i := range b {
			n := len(alnum)
			if i == 0 {
				n = 26 // start with a letter
			}
			b[i] = alnum[int(b[i])%n]
		}
		p := string(b)
		if names, _ := namedns.List(p + "-"); len(names) == 0 {
			return p
		}
	}
}

// syncBuffer collects a test's driver logs; they are printed when it fails.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testConfig is a configuration with a fresh prefix and state directory;
// Purge of the prefix and a check that nothing is left run at cleanup.
func testConfig(t testing.TB, sites ...SiteConfig) Config {
	t.Helper()
	testenv.RequireRoot(t)
	if len(sites) == 0 {
		sites = []SiteConfig{{Name: "a"}}
	}
	prefix := newPrefix(t)
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if err := Purge(context.Background(), prefix); err != nil {
			t.Errorf("Purge: %v", err)
		}
		assertNothingLeft(t, prefix)
		if t.Failed() {
			t.Logf("driver log:\n%s", logs.String())
		}
	})
	return Config{
		Prefix:   prefix,
		StateDir: t.TempDir(),
		Sites:    sites,
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// openDriver opens a driver on cfg and destroys it at cleanup.
func openDriver(t testing.TB, cfg Config) *Driver {
	t.Helper()
	d, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Destroy(context.Background()); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("Destroy: %v", err)
		}
	})
	return d
}

func newDriver(t testing.TB, sites ...SiteConfig) *Driver {
	t.Helper()
	return openDriver(t, testConfig(t, sites...))
}

// assertNothingLeft checks the kernel and cgroups for anything with prefix.
func assertNothingLeft(t testing.TB, prefix string) {
	t.Helper()
	if names, _ := namedns.List(prefix + "-"); len(names) > 0 {
		t.Errorf("namespaces left: %v", names)
	}
	links, err := netlink.LinkList()
	if err != nil {
		t.Errorf("list links: %v", err)
	}
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Name, prefix+"-") {
			t.Errorf("host link left: %s", l.Attrs().Name)
		}
	}
	if bases := prefixCgroupBases(prefix); len(bases) > 0 {
		t.Errorf("cgroups left: %v", bases)
	}
}

func requireNoLeaks(t testing.TB, d *Driver) {
	t.Helper()
	leaks, err := d.Leaks(context.Background())
	if err != nil {
		t.Fatalf("Leaks: %v", err)
	}
	if len(leaks) > 0 {
		t.Fatalf("leaks:\n  %s", strings.Join(leaks, "\n  "))
	}
}

func mustNetwork(t testing.TB, d *Driver, name, cidr string, sites ...string) vim.Network {
	t.Helper()
	n, err := d.EnsureNetwork(context.Background(), vim.NetworkSpec{Name: name, CIDR: cidr, Sites: sites})
	if err != nil {
		t.Fatalf("EnsureNetwork %s: %v", name, err)
	}
	return n
}

func mustCreate(t testing.TB, d *Driver, spec vim.InstanceSpec) vim.Instance {
	t.Helper()
	inst, err := d.CreateInstance(context.Background(), spec)
	if err != nil {
		t.Fatalf("CreateInstance %s: %v", spec.Name, err)
	}
	if inst.Status != vim.StatusRunning {
		t.Fatalf("CreateInstance %s: status %s", spec.Name, inst.Status)
	}
	return inst
}

// mustStart creates an instance whose program may already have exited.
func mustStart(t testing.TB, d *Driver, spec vim.InstanceSpec) vim.Instance {
	t.Helper()
	inst, err := d.CreateInstance(context.Background(), spec)
	if err != nil {
		t.Fatalf("CreateInstance %s: %v", spec.Name, err)
	}
	if inst.Status != vim.StatusRunning && inst.Status != vim.StatusExited {
		t.Fatalf("CreateInstance %s: status %s", spec.Name, inst.Status)
	}
	return inst
}

// waitStatus polls until the instance has status want.
func waitStatus(t testing.TB, d *Driver, id string, want vim.Status, timeout time.Duration) vim.Instance {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		inst, err := d.GetInstance(context.Background(), id)
		if err != nil {
			t.Fatalf("GetInstance %s: %v", id, err)
		}
		if inst.Status == want {
			return inst
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(inst.LogPath)
			t.Fatalf("instance %s: status %s after %v, want %s; log:\n%s", id, inst.Status, timeout, want, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// instancePid returns the pid the driver recorded.
func instancePid(t testing.TB, d *Driver, name string) int {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	inst := d.insts[name]
	if inst == nil {
		t.Fatalf("no instance %s", name)
	}
	return inst.rec.PID
}

func sleeper(name string, ports ...vim.PortSpec) vim.InstanceSpec {
	return vim.InstanceSpec{Name: name, Site: "a", Program: "sleep", Args: []string{"3600"}, Ports: ports}
}

// runAndKill runs the helper test helper in a child process (the driver
// in another process, as a daemon would hold it), with params in env var,
// waits until it prints DAEMON READY and SIGKILLs it: a daemon crash.
func runAndKill(t *testing.T, helper, envVar string, params map[string]string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+helper+"$", "-test.v")
	cmd.Env = append(os.Environ(), envVar+"="+mustJSON(t, params))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "DAEMON READY" {
				ok = true
				break
			}
		}
		ready <- ok
		for sc.Scan() {
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Wait()
			t.Fatal("daemon exited before it was ready")
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("daemon not ready in time")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
}

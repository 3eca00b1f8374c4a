package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/config"
	"github.com/stitchnfv/stitch/internal/testenv"
	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/nfvo/api"
	"sigs.k8s.io/yaml"
)

// binDir holds stitch's binaries, built once for the package's tests.
var binDir string

func TestMain(m *testing.M) {
	code := func() int {
		if os.Geteuid() == 0 {
			dir, err := os.MkdirTemp("", "stitch-bin-")
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer os.RemoveAll(dir)
			out, err := exec.Command("go", "build", "-o", dir, "github.com/stitchnfv/stitch/cmd/...").CombinedOutput()
			if err != nil {
				fmt.Fprintf(os.Stderr, "building binaries: %v\n%s", err, out)
				return 1
			}
			binDir = dir
		}
		return m.Run()
	}()
	os.Exit(code)
}

// testConfig is a daemon configuration private to one test: its own prefix,
// state directory and port.
func testConfig(t testing.TB) config.Config {
	t.Helper()
	testenv.RequireRoot(t)
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.StateDir = t.TempDir()
	cfg.VIM.Prefix = "t" + hex.EncodeToString(b)[:3]
	cfg.ProgramPath = []string{binDir}
	// The bridge fabric: these tests are about the orchestrator and the
	// VIM; the OVN fabric's own tests start from ovnTestConfig.
	cfg.Network.Fabric = config.FabricBridge
	cfg.HealthTimeout = config.Duration(20 * time.Second)
	cfg.DefaultGrace = config.Duration(2 * time.Second)
	purge := cfg
	t.Cleanup(func() {
		killStrays(purge.StateDir)
		if err := Purge(context.Background(), purge); err != nil {
			t.Errorf("purge %s: %v", purge.VIM.Prefix, err)
		}
	})
	return cfg
}

// startInProcess runs a daemon inside the test process.
func startInProcess(t testing.TB, cfg config.Config) (*Daemon, *api.Client) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := Start(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, &api.Client{BaseURL: "http://" + d.Addr, HTTP: &http.Client{Timeout: 10 * time.Second}}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// onboardExamples onboards every example VNFD, then the NSDs.
func onboardExamples(t testing.TB, c *api.Client) {
	t.Helper()
	ctx := context.Background()
	for _, dir := range []string{"vnfd", "nsd"} {
		files, _ := filepath.Glob(filepath.Join("..", "..", "examples", dir, "*.yaml"))
		if len(files) == 0 {
			t.Fatalf("no examples in %s", dir)
		}
		for _, f := range files {
			doc, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if dir == "vnfd" {
				_, err = c.OnboardVNFD(ctx, doc)
			} else {
				_, err = c.OnboardNSD(ctx, doc)
			}
			if err != nil {
				t.Fatalf("onboard %s: %v", f, err)
			}
		}
	}
}

// waitOp polls an operation until it is final or FAILED_TEMP.
func waitOp(t testing.TB, c *api.Client, id string, timeout time.Duration) nfvo.LcmOpOcc {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		op, err := c.GetOp(context.Background(), id)
		if err == nil && (op.OperationState.Final() || op.OperationState == nfvo.OpFailedTemp) {
			return op
		}
		if time.Now().After(deadline) {
			t.Fatalf("operation %s not done after %s (last: %+v, %v)", id, timeout, op.OperationState, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mustComplete(t testing.TB, c *api.Client, op nfvo.LcmOpOcc, err error) nfvo.LcmOpOcc {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	done := waitOp(t, c, op.ID, 90*time.Second)
	if done.OperationState != nfvo.OpCompleted {
		t.Fatalf("%s ended %s: %+v\nsteps: %+v", done.LcmOperationType, done.OperationState, done.Error, done.Steps)
	}
	return done
}

// siteHTTP is an HTTP client whose connections start inside a site's
// network.
func siteHTTP(d *Daemon, site string) *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return d.VIM.DialContext(ctx, site, network, addr)
			},
		},
	}
}

// processesWhere returns the pids whose environment satisfies match.
func processesWhere(match func(env []string) bool) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && match(strings.Split(string(b), "\x00")) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// processesWithEnv returns the pids whose environment holds key=value.
func processesWithEnv(key, value string) []int {
	return processesWhere(func(env []string) bool { return slices.Contains(env, key+"="+value) })
}

// killStrays kills leftover programs of a test, known by their bindings
// file in its state directory (a safety net; tests assert nothing is left
// before it runs).
func killStrays(stateDir string) {
	stray := processesWhere(func(env []string) bool {
		return slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "STITCH_BINDINGS="+stateDir) })
	})
	for _, pid := range stray {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// daemonProcess runs stitchd as a child process, so a test can SIGKILL it.
type daemonProcess struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{} // closed once the process is reaped
}

func writeConfig(path string, cfg config.Config) error {
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func startProcess(t testing.TB, cfg config.Config) (*daemonProcess, *api.Client) {
	t.Helper()
	cfgPath := filepath.Join(cfg.StateDir, "stitchd.yaml")
	if err := writeConfig(cfgPath, cfg); err != nil {
		t.Fatal(err)
	}
	logw, addrc := AddrWatcher(testWriter{t})
	cmd := exec.Command(filepath.Join(binDir, "stitchd"), "--config", cfgPath)
	cmd.Stderr = logw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &daemonProcess{cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.kill() })
	select {
	case p.addr = <-addrc:
	case <-p.exited:
		t.Fatal("stitchd exited before serving")
	case <-time.After(30 * time.Second):
		t.Fatal("stitchd did not start serving")
	}
	return p, &api.Client{BaseURL: "http://" + p.addr, HTTP: &http.Client{Timeout: 10 * time.Second}}
}

func (p *daemonProcess) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

func (p *daemonProcess) stop(t testing.TB) {
	t.Helper()
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		t.Fatal("stitchd did not stop on SIGINT")
	}
}

// Package ovntest starts real OVN control-plane processes for tests: an
// ovsdb-server each for the northbound and southbound databases and an
// ovn-northd between them, all inside a test's temporary directory. It is
// meant for _test.go files only; nothing in production imports it.
package ovntest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/testenv"
)

// Schema paths as Debian's ovn-common ships them.
const (
	NBSchema = "/usr/share/ovn/ovn-nb.ovsschema"
	SBSchema = "/usr/share/ovn/ovn-sb.ovsschema"
)

// startTimeout bounds how long a daemon may take to open its socket; on an
// idle machine it takes a few milliseconds.
const startTimeout = 10 * time.Second

// Env is one running OVN control plane.
type Env struct {
	// Dir holds databases, sockets, pid files and logs.
	Dir string
	// NBSocket and SBSocket are the unix socket paths of the databases.
	NBSocket, SBSocket string
}

// NB is the northbound endpoint in OVSDB form ("unix:/path").
func (e *Env) NB() string { return "unix:" + e.NBSocket }

// SB is the southbound endpoint in OVSDB form.
func (e *Env) SB() string { return "unix:" + e.SBSocket }

// Require skips t (or fails it under CI=true) unless the OVN programs and
// schemas the harness uses are installed (Debian: ovn-central, ovn-host,
// openvswitch-switch).
func Require(t testing.TB) {
	t.Helper()
	testenv.RequireCommands(t, "ovsdb-server", "ovn-northd", "ovsdb-tool",
		"ovsdb-client", "ovn-nbctl", "ovn-sbctl")
	for _, p := range []string{NBSchema, SBSchema} {
		if _, err := os.Stat(p); err != nil {
			testenv.Unavailable(t, "this test needs the OVN schema "+p)
		}
	}
}

// Start runs NB and SB ovsdb-servers and ovn-northd for t and stops them
// when t ends, also when it fails. Every path is private to the call, so
// parallel tests each get their own control plane.
func Start(t testing.TB) *Env {
	t.Helper()
	Require(t)
	e := &Env{Dir: shortTempDir(t)}
	e.NBSocket = filepath.Join(e.Dir, "nb.sock")
	e.SBSocket = filepath.Join(e.Dir, "sb.sock")
	e.startDB(t, "nb", NBSchema)
	e.startDB(t, "sb", SBSchema)
	e.startNorthd(t)
	return e
}

// shortTempDir returns t.TempDir() unless its path is too long for a unix
// socket name (108 bytes with the file name), as it is for long test names.
func shortTempDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if len(dir) < 80 {
		return dir
	}
	dir, err := os.MkdirTemp("", "ovntest")
	if err != nil {
		t.Fatalf("ovntest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (e *Env) startDB(t testing.TB, name, schema string) {
	t.Helper()
	db := filepath.Join(e.Dir, name+".db")
	if out, err := exec.Command("ovsdb-tool", "create", db, schema).CombinedOutput(); err != nil {
		t.Fatalf("ovntest: ovsdb-tool create %s: %v: %s", name, err, out)
	}
	sock := filepath.Join(e.Dir, name+".sock")
	e.run(t, name, "ovsdb-server",
		"--remote=punix:"+sock,
		"--pidfile="+filepath.Join(e.Dir, name+".pid"),
		"--unixctl="+filepath.Join(e.Dir, name+".ctl"),
		"--log-file="+filepath.Join(e.Dir, name+".log"),
		db)
	if err := waitSocket(sock); err != nil {
		t.Fatalf("ovntest: %s ovsdb-server: %v (log in %s)", name, err, e.Dir)
	}
}

func (e *Env) startNorthd(t testing.TB) {
	t.Helper()
	ctl := filepath.Join(e.Dir, "northd.ctl")
	e.run(t, "northd", "ovn-northd",
		"--ovnnb-db="+e.NB(), "--ovnsb-db="+e.SB(),
		"--pidfile="+filepath.Join(e.Dir, "northd.pid"),
		"--unixctl="+ctl,
		"--log-file="+filepath.Join(e.Dir, "northd.log"))
	// The control socket appears once northd is initialised; whether it has
	// caught up with NB is what `ovn-nbctl --wait=sb sync` answers.
	if err := waitSocket(ctl); err != nil {
		t.Fatalf("ovntest: ovn-northd: %v (log in %s)", err, e.Dir)
	}
}

// run starts a daemon in the foreground (no --detach) so the test owns the
// process, and registers its stop.
func (e *Env) run(t testing.TB, name, prog string, args ...string) {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Env = e.environ()
	cmd.SysProcAttr = daemonAttr()
	stderr, err := os.Create(filepath.Join(e.Dir, name+".stderr"))
	if err != nil {
		t.Fatalf("ovntest: %v", err)
	}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		stderr.Close()
		t.Fatalf("ovntest: start %s: %v", prog, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); stderr.Close(); close(done) }()
	t.Cleanup(func() { stop(cmd, done) })
}

// stop asks politely, then insists, so a wedged daemon cannot hang the test.
func stop(cmd *exec.Cmd, done <-chan struct{}) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// environ points OVN's and OVS's run directories at the private directory:
// otherwise daemons and ctl tools would share /var/run/ovn across tests.
func (e *Env) environ() []string {
	env := make([]string, 0, len(os.Environ())+2)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "OVN_RUNDIR", "OVS_RUNDIR", "OVN_NB_DAEMON", "OVN_SB_DAEMON", "OVN_NB_DB", "OVN_SB_DB":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "OVN_RUNDIR="+e.Dir, "OVS_RUNDIR="+e.Dir)
}

// waitSocket polls until something accepts connections on path; polling a
// dial is cheap and far quicker than a fixed sleep.
func waitSocket(path string) error {
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.Dial("unix", path)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no listener on %s after %v: %w", path, startTimeout, err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// NBCtl runs ovn-nbctl against the northbound database and returns its
// standard output; it fails t on error.
func (e *Env) NBCtl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := e.Ctl(context.Background(), "ovn-nbctl", append([]string{"--db=" + e.NB()}, args...)...)
	if err != nil {
		t.Fatalf("ovntest: %v", err)
	}
	return out
}

// SBCtl is NBCtl for ovn-sbctl and the southbound database.
func (e *Env) SBCtl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := e.Ctl(context.Background(), "ovn-sbctl", append([]string{"--db=" + e.SB()}, args...)...)
	if err != nil {
		t.Fatalf("ovntest: %v", err)
	}
	return out
}

// Ctl runs an OVN/OVS command-line tool in the environment's run directory,
// for callers (benchmarks) that must not fail a test on error.
func (e *Env) Ctl(ctx context.Context, prog string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = e.environ()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("%s %s: %w: %s", prog, strings.Join(args, " "), err, stderr.Bytes())
		}
		return "", fmt.Errorf("%s: %w", prog, err)
	}
	return stdout.String(), nil
}

// Package ovnhost runs the OVS and OVN processes stitch needs as plain
// processes, without systemd or the openvswitch kernel module: a chassis
// (ovsdb-server for its Open_vSwitch database, ovs-vswitchd with the
// userspace netdev datapath inside a named network namespace, and
// ovn-controller) and an OVN central (NB and SB ovsdb-servers and
// ovn-northd). Every daemon is started detached (its own session, reparented
// away from the caller) with a pid file in its run directory, so it outlives
// the process that started it; starting again adopts the daemons still
// running and restarts the dead ones.
//
// Every process carries the environment variable EnvTag=<tag>, so a sweep
// can find what a crashed owner left behind (TaggedProcs) without records.
package ovnhost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stitchnfv/stitch/internal/namedns"
)

// EnvTag is the environment variable that marks every process ovnhost
// starts with the caller's tag.
const EnvTag = "STITCH_OVN_TAG"

// Schema paths as Debian's openvswitch-common and ovn-common ship them.
const (
	VSwitchSchema = "/usr/share/openvswitch/vswitch.ovsschema"
	NBSchema      = "/usr/share/ovn/ovn-nb.ovsschema"
	SBSchema      = "/usr/share/ovn/ovn-sb.ovsschema"
)

// startTimeout bounds how long a daemon may take to come up, and
// convergeTimeout how long OVN may take to register a chassis.
const (
	startTimeout    = 10 * time.Second
	stopTimeout     = 5 * time.Second
	convergeTimeout = 15 * time.Second
)

// maxSockPath is the longest unix socket path (sun_path minus its NUL).
const maxSockPath = 107

// daemon describes one detached process of a run directory.
type daemon struct {
	name  string   // file names: <dir>/<name>.pid, .log, .ctl
	prog  string   // executable
	netns string   // named network namespace to start it in ("": the caller's)
	args  []string // besides --detach, --pidfile, --log-file
	// unixctl: whether the daemon takes --unixctl=<dir>/<name>.ctl; if
	// not (ovn-controller) its control socket is <dir>/<prog>.<pid>.ctl.
	unixctl bool
	exit    []string // appctl command that stops it cleanly
}

func (d daemon) pidFile(dir string) string { return filepath.Join(dir, d.name+".pid") }

func (d daemon) ctlPath(dir string, pid int) string {
	if d.unixctl {
		return filepath.Join(dir, d.name+".ctl")
	}
	return filepath.Join(dir, d.prog+"."+strconv.Itoa(pid)+".ctl")
}

// environ is the process environment with OVS's and OVN's run directories
// pointed at dir (so daemons and ctl tools of different chassis never meet
// in /var/run) and the tag set.
func environ(dir, tag string) []string {
	env := make([]string, 0, len(os.Environ())+4)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "OVN_RUNDIR", "OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVN_LOGDIR", "OVN_DBDIR",
			"OVN_NB_DAEMON", "OVN_SB_DAEMON", "OVN_NB_DB", "OVN_SB_DB", EnvTag:
			continue
		}
		env = append(env, kv)
	}
	return append(env, "OVN_RUNDIR="+dir, "OVS_RUNDIR="+dir, "OVS_DBDIR="+dir,
		"OVS_LOGDIR="+dir, "OVN_LOGDIR="+dir, "OVN_DBDIR="+dir, EnvTag+"="+tag)
}

// readPid returns the pid in the daemon's pid file when that process is
// alive and still is the daemon of this run directory (its command line
// names the pid file), else 0.
func (d daemon) readPid(dir string) int {
	data, err := os.ReadFile(d.pidFile(dir))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0
	}
	if !alive(pid) {
		return 0
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || !bytes.Contains(cmdline, []byte("--pidfile="+d.pidFile(dir))) {
		return 0
	}
	return pid
}

// alive reports whether pid runs and is no zombie.
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return false
	}
	st := data[i+2]
	return st != 'Z' && st != 'X'
}

// start runs the daemon detached unless it already runs; it returns its
// pid and whether it was started now.
func (d daemon) start(ctx context.Context, dir, tag string) (int, bool, error) {
	if pid := d.readPid(dir); pid > 0 {
		return pid, false, nil
	}
	args := []string{
		"--detach", "--no-chdir",
		"--pidfile=" + d.pidFile(dir),
		"--log-file=" + filepath.Join(dir, d.name+".log"),
	}
	if d.unixctl {
		args = append(args, "--unixctl="+d.ctlPath(dir, 0))
	}
	args = append(args, d.args...)
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.prog, args...)
	cmd.Env = environ(dir, tag)
	cmd.Dir = dir
	// The daemon forks and calls setsid itself (--detach); this puts even
	// the short-lived parent out of the caller's process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// --detach returns once the daemon is initialised.
	err := namedns.DoNamed(d.netns, cmd.Run)
	if err != nil {
		return 0, false, fmt.Errorf("start %s: %w: %s (log %s)", d.name, err, bytes.TrimSpace(out.Bytes()),
			filepath.Join(dir, d.name+".log"))
	}
	pid := d.readPid(dir)
	if pid == 0 {
		return 0, false, fmt.Errorf("start %s: no live process behind %s (log %s)", d.name, d.pidFile(dir),
			filepath.Join(dir, d.name+".log"))
	}
	return pid, true, nil
}

// stop asks the daemon to exit through its control socket, then signals
// it; a daemon not running is fine.
func (d daemon) stop(ctx context.Context, dir, tag string) error {
	pid := d.readPid(dir)
	if pid == 0 {
		return nil
	}
	if len(d.exit) > 0 {
		cctx, cancel := context.WithTimeout(ctx, stopTimeout)
		args := append([]string{"-t", d.ctlPath(dir, pid)}, d.exit...)
		cmd := exec.CommandContext(cctx, "ovs-appctl", args...)
		cmd.Env = environ(dir, tag)
		_ = cmd.Run()
		cancel()
		if waitGone(pid, stopTimeout) {
			return nil
		}
	}
	syscall.Kill(pid, syscall.SIGTERM)
	if waitGone(pid, 3*time.Second) {
		return nil
	}
	syscall.Kill(pid, syscall.SIGKILL)
	if waitGone(pid, 3*time.Second) {
		return nil
	}
	return fmt.Errorf("stop %s: process %d does not exit", d.name, pid)
}

func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if !alive(pid) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ensureDB creates an OVSDB file from schema unless it exists.
func ensureDB(ctx context.Context, path, schema string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if _, err := os.Stat(schema); err != nil {
		return fmt.Errorf("OVSDB schema: %w", err)
	}
	tmp := path + ".tmp"
	os.Remove(tmp)
	if out, err := exec.CommandContext(ctx, "ovsdb-tool", "create", tmp, schema).CombinedOutput(); err != nil {
		return fmt.Errorf("ovsdb-tool create %s: %w: %s", path, err, bytes.TrimSpace(out))
	}
	return os.Rename(tmp, path)
}

// waitSocket polls until something accepts connections on path.
func waitSocket(ctx context.Context, path string) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		c, err := net.Dial("unix", path)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no listener on %s: %w", path, err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// run runs an OVS/OVN tool with the run directory's environment and
// returns its standard output.
func run(ctx context.Context, dir, tag, prog string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = environ(dir, tag)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", prog, strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.String(), nil
}

// Poll calls cond, quickly at first, until it reports done or timeout
// passes; the error names what and carries cond's last error. OVN
// converges in milliseconds, so polling beats fixed sleeps.
func Poll(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		done, err := cond()
		if done {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("waiting for %s: %w", what, ctx.Err()), last)
		case <-time.After(wait):
		}
	}
}

func checkSockDir(dir string) error {
	if len(dir)+len("/ovn-controller.4194304.ctl") > maxSockPath {
		return fmt.Errorf("run directory %s is too long for unix socket names", dir)
	}
	return nil
}

// Proc is a process carrying a tag.
type Proc struct {
	Pid     int
	Tag     string
	Cmdline string
}

// TaggedProcs lists the live processes whose EnvTag starts with tagPrefix.
// It scans /proc: for sweeps and leak checks, not hot paths.
func TaggedProcs(tagPrefix string) []Proc {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	needle := []byte(EnvTag + "=" + tagPrefix)
	var out []Proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.HasPrefix(kv, needle) && alive(pid) {
				cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
				out = append(out, Proc{Pid: pid, Tag: string(kv[len(EnvTag)+1:]),
					Cmdline: strings.TrimSpace(string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))})
				break
			}
		}
	}
	return out
}

// KillTagged SIGKILLs the processes TaggedProcs(tagPrefix) finds and waits
// briefly for them to go. For sweeps after a crash; Chassis.Stop and
// Central.Stop are the orderly way.
func KillTagged(tagPrefix string) []int {
	var killed []int
	for range 50 {
		procs := TaggedProcs(tagPrefix)
		if len(procs) == 0 {
			break
		}
		for _, p := range procs {
			syscall.Kill(p.Pid, syscall.SIGKILL)
			killed = append(killed, p.Pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return killed
}

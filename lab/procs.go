package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/stitchnfv/stitch/internal/namedns"
)

// nodeEnv is the environment of a node's commands: the runner's own (PATH
// and friends) overlaid with the node's env and containerlab's CLAB_*
// variables, so scripts written for containerlab find what they expect.
func nodeEnv(lab string, n Node) []string {
	env := os.Environ()
	for _, k := range slices.Sorted(maps.Keys(n.Env)) {
		env = append(env, k+"="+n.Env[k])
	}
	return append(env, "CLAB_LAB_NAME="+lab, "CLAB_NODE_NAME="+n.Name)
}

// maxExecOutput bounds how much of a failing command's output an error
// carries.
const maxExecOutput = 2048

// runInNetNS runs `sh -c command` in the namespace and waits for it. Its
// output is appended to logPath (a file, not a pipe: a command that puts a
// child in the background must not keep us waiting for the pipe to close).
func runInNetNS(ctx context.Context, ns, command string, env []string, logPath string) error {
	log, err := os.OpenFile(logPath, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	defer log.Close()
	start, _ := log.Seek(0, io.SeekEnd)
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	if err := namedns.DoNamed(ns, cmd.Start); err != nil {
		return fmt.Errorf("start %q: %w", command, err)
	}
	if err := cmd.Wait(); err != nil {
		out := make([]byte, maxExecOutput)
		n, _ := log.ReadAt(out, start)
		return fmt.Errorf("%q: %w: %s", command, err, strings.TrimSpace(string(out[:n])))
	}
	return nil
}

// startInNetNS starts `sh -c command` in the namespace in its own process
// group, output appended to logPath, and returns its pid. The process
// outlives Deploy; a goroutine reaps it if it exits while we run.
func startInNetNS(ns, command string, env []string, logPath string) (int, error) {
	log, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("open log: %w", err)
	}
	defer log.Close()
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := namedns.DoNamed(ns, cmd.Start); err != nil {
		return 0, fmt.Errorf("start %q: %w", command, err)
	}
	go func() { _ = cmd.Wait() }()
	return cmd.Process.Pid, nil
}

// netnsPIDs lists the processes whose network namespace is the named one.
func netnsPIDs(ns string) []int {
	id, ok := namedns.IDOf(namedns.Path(ns))
	if !ok {
		return nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if i, ok := namedns.IDOf("/proc/" + e.Name() + "/ns/net"); ok && i == id {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killNetNSProcs ends every process inside the namespace, whoever started
// it (a cmd, or something an exec line put in the background): SIGTERM,
// then SIGKILL for those still there after a grace period.
func killNetNSProcs(ctx context.Context, ns string) error {
	pids := netnsPIDs(ns)
	if len(pids) == 0 {
		return nil
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if len(livePIDs(pids)) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			deadline = time.Now()
		case <-time.After(20 * time.Millisecond):
		}
	}
	for _, pid := range livePIDs(pids) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for range 100 {
		if len(livePIDs(pids)) == 0 {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	if left := livePIDs(pids); len(left) > 0 {
		return fmt.Errorf("processes %v in netns %s survive SIGKILL", left, ns)
	}
	return nil
}

// livePIDs keeps the pids that still run (zombies count as gone: they
// hold no namespace resources and their parent reaps them).
func livePIDs(pids []int) []int {
	var out []int
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if errors.Is(err, os.ErrNotExist) || err != nil {
			continue
		}
		// State is the field after the parenthesised command name.
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) && s[i+2] == 'Z' {
			continue
		}
		out = append(out, pid)
	}
	return out
}

package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/vim"
)

// lookProgram resolves a program name: a name with '/' must be an executable
// file; a bare name is searched in the extra directories, then in $PATH.
func lookProgram(program string, extra []string) (string, error) {
	if program == "" {
		return "", fmt.Errorf("%w: no program given", vim.ErrInvalid)
	}
	check := func(p string) bool {
		st, err := os.Stat(p)
		return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
	}
	if strings.Contains(program, "/") {
		abs, err := filepath.Abs(program)
		if err == nil && check(abs) {
			return abs, nil
		}
		return "", fmt.Errorf("%w: program %q is not an executable file", vim.ErrInvalid, program)
	}
	for _, dir := range extra {
		p := filepath.Join(dir, program)
		if check(p) {
			return filepath.Abs(p)
		}
	}
	p, err := exec.LookPath(program)
	if err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs, nil
		}
	}
	return "", fmt.Errorf("%w: program %q not found in %v or $PATH", vim.ErrInvalid, program, extra)
}

// procStat is what /proc/PID/stat tells about a process.
type procStat struct {
	state     byte
	startTime uint64 // field 22: clock ticks after boot
}

func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	st, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return procStat{state: f[0][0], startTime: st}, nil
}

// procAlive reports whether pid is still the process started at startTime
// and has not exited (a zombie has).
func procAlive(pid int, startTime uint64) bool {
	if pid <= 0 {
		return false
	}
	st, err := readProcStat(pid)
	return err == nil && st.startTime == startTime && st.state != 'Z' && st.state != 'X'
}

// proc tracks one instance's main process.
type proc struct {
	pid       int
	startTime uint64
	pidfd     *os.File      // nil when pidfd is unavailable
	child     bool          // started by this process (exit status is ours)
	done      chan struct{} // closed once the exit is recorded; nil: poll /proc
}

// exited reports (without blocking) whether the process is gone.
func (p *proc) exited() bool {
	if p.done != nil {
		select {
		case <-p.done:
			return true
		default:
			return false
		}
	}
	return !procAlive(p.pid, p.startTime)
}

// wait waits up to d for the process to exit.
func (p *proc) wait(d time.Duration, cancel <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	if p.done != nil {
		select {
		case <-p.done:
			return true
		case <-t.C:
		case <-cancel:
		}
		return p.exited()
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if p.exited() {
			return true
		}
		select {
		case <-tick.C:
		case <-t.C:
			return p.exited()
		case <-cancel:
			return p.exited()
		}
	}
}

// signalGroup signals the process group the instance's program leads. A
// group id stays allocated while any member lives, and the leader is only
// reaped by our watcher, so the id cannot have been recycled for a stranger
// in between (short of a full pid wrap-around within microseconds).
func (p *proc) signalGroup(sig syscall.Signal) {
	if p.pid > 0 {
		syscall.Kill(-p.pid, sig)
	}
}

// openPidfd opens a non-blocking pidfd for pid, verifying it still is the
// process that started at startTime.
func openPidfd(pid int, startTime uint64) (*os.File, error) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if errors.Is(err, unix.EINVAL) { // kernels before 5.10
		fd, err = unix.PidfdOpen(pid, 0)
		if err == nil {
			err = unix.SetNonblock(fd, true)
			if err != nil {
				unix.Close(fd)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if st, err := readProcStat(pid); err != nil || st.startTime != startTime {
		unix.Close(fd)
		return nil, fmt.Errorf("pid %d: %w", pid, fs.ErrNotExist)
	}
	return os.NewFile(uintptr(fd), "pidfd:"+strconv.Itoa(pid)), nil
}

// waitPidfd blocks (in the Go netpoller, no thread held) until the process
// exits or f is closed; it then reaps the process when it is our child and
// returns its exit code (-1 when unknown). ok is false when f was closed.
func waitPidfd(f *os.File) (code int, ok bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, false
	}
	err = rc.Read(func(fd uintptr) bool {
		n, _ := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 0)
		return n > 0
	})
	if err != nil {
		return -1, false
	}
	code = -1
	for range 50 {
		var info unix.Siginfo
		var werr error
		cerr := rc.Control(func(fd uintptr) {
			werr = unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG, nil)
		})
		if cerr != nil || werr != nil { // ECHILD: not our child
			return -1, true
		}
		pid, status := sigchld(&info)
		if pid != 0 {
			if info.Code == 1 { // CLD_EXITED
				return int(status), true
			}
			return 128 + int(status), true // killed by a signal, as shells report it
		}
		time.Sleep(10 * time.Millisecond) // exited, not yet waitable
	}
	return code, true
}

// sigchld extracts si_pid and si_status of a SIGCHLD siginfo.
func sigchld(info *unix.Siginfo) (pid, status int32) {
	off := uintptr(12)
	if unsafe.Sizeof(uintptr(0)) == 8 {
		off = 16
	}
	base := unsafe.Pointer(info)
	pid = *(*int32)(unsafe.Add(base, off))
	status = *(*int32)(unsafe.Add(base, off+8))
	return pid, status
}

// startSpec is what startProcess needs.
type startSpec struct {
	program string
	args    []string
	env     []string
	logPath string
	ns      netns.NsHandle
	cg      *cgroups
	cgLeaf  string
}

// startProcess starts the program inside the instance's network namespace
// (forked from a thread that has joined it), in its own process group,
// output appended to the log, already inside its cgroup: with v2 through
// clone3(CLONE_INTO_CGROUP); with v1 the child stops at its first
// instruction (ptrace) until it has been moved, so neither it nor its forks
// ever run unlimited. The caller owns the returned process (not reaped).
func startProcess(s startSpec) (pid int, err error) {
	logf, err := os.OpenFile(s.logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return 0, fmt.Errorf("open log: %w", err)
	}
	defer logf.Close()

	attempt := func(mode string) (int, error) {
		cmd := exec.Command(s.program, s.args...)
		cmd.Env = s.env
		cmd.Dir = "/"
		cmd.Stdout = logf
		cmd.Stderr = logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		var cgfd = -1
		switch mode {
		case "clone3":
			fd, err := s.cg.openDir(s.cgLeaf)
			if err != nil {
				return 0, fmt.Errorf("open cgroup: %w", err)
			}
			cgfd = fd
			defer unix.Close(cgfd)
			cmd.SysProcAttr.UseCgroupFD = true
			cmd.SysProcAttr.CgroupFD = cgfd
		case "ptrace":
			cmd.SysProcAttr.Ptrace = true
		}
		var pid int
		err := namedns.Do(s.ns, func() error {
			if err := cmd.Start(); err != nil {
				return err
			}
			pid = cmd.Process.Pid
			if mode != "ptrace" {
				return nil
			}
			// The child is stopped at the exec trap; this thread is its
			// tracer.
			var ws syscall.WaitStatus
			if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || !ws.Stopped() {
				syscall.Kill(pid, syscall.SIGKILL)
				return fmt.Errorf("wait for traced start: %v (status %v)", err, ws)
			}
			perr := s.cg.place(s.cgLeaf, pid)
			if err := syscall.PtraceDetach(pid); err != nil {
				perr = errors.Join(perr, fmt.Errorf("detach: %w", err))
			}
			if perr != nil {
				syscall.Kill(pid, syscall.SIGKILL)
				return perr
			}
			return nil
		})
		if err != nil {
			if pid > 0 {
				cmd.Wait() // reap what was killed
			}
			return 0, err
		}
		// The caller reaps through a pidfd; drop os.Process' own handle.
		cmd.Process.Release()
		return pid, nil
	}

	switch {
	case s.cg == nil:
		return attempt("plain")
	case s.cg.v2:
		pid, err := attempt("clone3")
		if err == nil {
			return pid, nil
		}
		if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EINVAL) {
			return 0, err
		}
	default:
		pid, err := attempt("ptrace")
		if err == nil {
			return pid, nil
		}
		if !errors.Is(err, unix.EPERM) {
			return 0, err
		}
	}
	// Fallback (no clone3 into cgroups / ptrace not permitted): move the
	// process right after it started.
	pid, err = attempt("plain")
	if err != nil {
		return 0, err
	}
	if err := s.cg.place(s.cgLeaf, pid); err != nil {
		syscall.Kill(-pid, syscall.SIGKILL)
		syscall.Wait4(pid, nil, 0, nil)
		return 0, err
	}
	return pid, nil
}

// processEnv is the program's environment: the spec's variables plus PATH
// (the extra program directories, then the daemon's PATH) unless given.
func processEnv(env map[string]string, extra []string) []string {
	out := make([]string, 0, len(env)+1)
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	if _, ok := env["PATH"]; !ok {
		path := os.Getenv("PATH")
		if path == "" {
			path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
		}
		if len(extra) > 0 {
			path = strings.Join(extra, ":") + ":" + path
		}
		out = append(out, "PATH="+path)
	}
	slices.Sort(out)
	return out
}

// netnsProcs maps namespace identity → pids of the processes in it, for the
// given namespaces. It scans /proc: for sweeps and repairs, not hot paths.
func netnsProcs(want map[namedns.ID]string) map[namedns.ID][]int {
	out := map[namedns.ID][]int{}
	if len(want) == 0 {
		return out
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		id, ok := namedns.IDOf("/proc/" + e.Name() + "/ns/net")
		if !ok {
			continue
		}
		if _, ok := want[id]; ok {
			out[id] = append(out[id], pid)
		}
	}
	return out
}

// killNetNSProcs SIGKILLs every process inside the named namespace, waits
// briefly for them to go and returns their pids.
func killNetNSProcs(name string) []int {
	id, ok := namedns.IDOf(namedns.Path(name))
	if !ok || !namedns.IsMount(namedns.Path(name)) {
		return nil
	}
	want := map[namedns.ID]string{id: name}
	var killed []int
	for range 100 {
		pids := netnsProcs(want)[id]
		if len(pids) == 0 {
			break
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		killed = append(killed, pids...)
		time.Sleep(10 * time.Millisecond)
	}
	slices.Sort(killed)
	return slices.Compact(killed)
}

func sleepCtx(ctx context.Context, ms int) {
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

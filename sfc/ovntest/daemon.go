package ovntest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stopTimeout bounds a daemon's own orderly exit before it is signalled.
const stopTimeout = 3 * time.Second

// daemonStop is how a chassis daemon is stopped when its test ends.
type daemonStop struct {
	cmd  *exec.Cmd
	done <-chan struct{}
	// ctl, if set, is a command asking the daemon to exit cleanly (an
	// appctl `exit`), tried before SIGTERM.
	ctl []string
}

// daemon starts prog in the foreground with the chassis's run directories,
// inside network namespace netns unless it is empty, and registers its stop.
// `ip netns exec` execs prog in place, so the process the test owns is the
// daemon itself and its parent-death signal still applies.
func (c *Chassis) daemon(t testing.TB, name, netns, prog string, args ...string) *daemonStop {
	t.Helper()
	if netns != "" {
		args = append([]string{"netns", "exec", netns, prog}, args...)
		prog = "ip"
	}
	cmd := exec.Command(prog, args...)
	cmd.Env = environFor(c.Dir)
	cmd.SysProcAttr = daemonAttr()
	stderr, err := os.Create(filepath.Join(c.Dir, name+".stderr"))
	if err != nil {
		t.Fatalf("ovntest: %v", err)
	}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		stderr.Close()
		t.Fatalf("ovntest: chassis %s: start %s: %v", c.Name, name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); stderr.Close(); close(done) }()
	s := &daemonStop{cmd: cmd, done: done}
	t.Cleanup(func() { s.stop(c.Dir) })
	return s
}

func (s *daemonStop) stop(dir string) {
	select {
	case <-s.done:
		return
	default:
	}
	if len(s.ctl) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		cmd := exec.CommandContext(ctx, s.ctl[0], s.ctl[1:]...)
		cmd.Env = environFor(dir)
		err := cmd.Run()
		cancel()
		if err == nil {
			select {
			case <-s.done:
				return
			case <-time.After(stopTimeout):
			}
		}
	}
	stop(s.cmd, s.done)
}

// environFor is the process environment with OVS's and OVN's run
// directories pointed at dir, so that daemons and ctl tools of different
// chassis (and tests) never meet in /var/run.
func environFor(dir string) []string {
	env := make([]string, 0, len(os.Environ())+2)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "OVN_RUNDIR", "OVS_RUNDIR", "OVS_DBDIR", "OVN_NB_DAEMON", "OVN_SB_DAEMON", "OVN_NB_DB", "OVN_SB_DB":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "OVN_RUNDIR="+dir, "OVS_RUNDIR="+dir, "OVS_DBDIR="+dir)
}

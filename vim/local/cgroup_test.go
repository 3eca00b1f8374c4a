package local

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/stitchnfv/stitch/internal/testenv"
)

// TestCgroupV2Clone3 exercises the cgroup v2 start path (clone3 with
// CLONE_INTO_CGROUP) on whatever cgroup2 hierarchy the host mounts, even one
// without controllers (a v1/v2 hybrid host's "unified" one).
func TestCgroupV2Clone3(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	v2, _, err := cgroupMounts()
	if err != nil || v2 == "" {
		testenv.Unavailable(t, "no cgroup2 hierarchy is mounted")
	}
	c := &cgroups{v2: true, rel: cgroupParent + "/" + cfg.Prefix, roots: map[string]string{}, mounts: []string{v2}}
	if err := c.setupParents(); err != nil {
		t.Fatal(err)
	}
	if err := c.create("i-test", 0, 0); err != nil {
		t.Fatal(err)
	}
	self, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	pid, err := startProcess(startSpec{program: "/bin/sleep", args: []string{"60"}, env: []string{"PATH=/bin"},
		logPath: t.TempDir() + "/log", ns: self, cg: c, cgLeaf: "i-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(pid, syscall.SIGKILL)
		syscall.Wait4(pid, nil, 0, nil)
		if err := c.remove("i-test"); err != nil {
			t.Error(err)
		}
	}()
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if want := "0::/" + c.rel + "/i-test"; !strings.Contains(string(b), want) {
		t.Fatalf("/proc/%d/cgroup lacks %q:\n%s", pid, want, b)
	}
	if pids := c.procs("i-test"); len(pids) != 1 || pids[0] != pid {
		t.Fatalf("cgroup.procs = %v", pids)
	}
}

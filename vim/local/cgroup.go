package local

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// cgroups places instances into per-instance cgroups with CPU and memory
// limits. With cgroup v2 the instance directory is
// <v2 mount>/stitch/<prefix>/<leaf>; with v1 there is one such directory per
// controller hierarchy (memory, cpu). The parent directories hold no
// processes. A nil *cgroups means the host offers none (limits are skipped).
type cgroups struct {
	v2     bool
	rel    string            // stitch/<prefix>, relative to each hierarchy root
	roots  map[string]string // controller ("memory", "cpu") → hierarchy mount point
	mounts []string          // distinct mount points in use
}

const cgroupParent = "stitch"

// cgroupMounts parses /proc/self/mountinfo: the cgroup2 mount point (if any)
// and the v1 mount point of each controller.
func cgroupMounts() (v2 string, v1 map[string]string, err error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	v1 = map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		left, right, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		lf, rf := strings.Fields(left), strings.Fields(right)
		if len(lf) < 5 || len(rf) < 3 {
			continue
		}
		mp := lf[4]
		switch rf[0] {
		case "cgroup2":
			if v2 == "" || mp == "/sys/fs/cgroup" {
				v2 = mp
			}
		case "cgroup":
			for _, opt := range strings.Split(rf[2], ",") {
				if opt == "memory" || opt == "cpu" {
					if _, dup := v1[opt]; !dup {
						v1[opt] = mp
					}
				}
			}
		}
	}
	return v2, v1, sc.Err()
}

// detectCgroups finds usable controllers and creates stitch/<prefix> in each
// hierarchy. It returns nil and the reason when none is usable.
func detectCgroups(prefix string) (*cgroups, error) {
	v2, v1, err := cgroupMounts()
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	c := &cgroups{rel: filepath.Join(cgroupParent, prefix), roots: map[string]string{}}
	if v2 != "" {
		data, _ := os.ReadFile(filepath.Join(v2, "cgroup.controllers"))
		avail := strings.Fields(string(data))
		for _, ctl := range []string{"memory", "cpu"} {
			if slices.Contains(avail, ctl) {
				c.roots[ctl] = v2
			}
		}
		if len(c.roots) > 0 {
			c.v2 = true
		}
	}
	if !c.v2 {
		for ctl, mp := range v1 {
			c.roots[ctl] = mp
		}
	}
	if len(c.roots) == 0 {
		return nil, errors.New("no memory or cpu cgroup controller is mounted")
	}
	for _, mp := range c.roots {
		if !slices.Contains(c.mounts, mp) {
			c.mounts = append(c.mounts, mp)
		}
	}
	slices.Sort(c.mounts)
	if err := c.setupParents(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *cgroups) controllers() []string {
	var out []string
	for _, ctl := range []string{"memory", "cpu"} {
		if _, ok := c.roots[ctl]; ok {
			out = append(out, ctl)
		}
	}
	return out
}

// setupParents creates stitch/<prefix> and, on v2, enables the controllers
// for the children along the way.
func (c *cgroups) setupParents() error {
	for _, mp := range c.mounts {
		dirs := []string{mp, filepath.Join(mp, cgroupParent), filepath.Join(mp, c.rel)}
		for i, dir := range dirs {
			if i > 0 {
				if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
					return fmt.Errorf("create cgroup %s: %w", dir, err)
				}
			}
			if c.v2 {
				if err := c.enableControllers(dir); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (c *cgroups) enableControllers(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return fmt.Errorf("cgroup %s: %w", dir, err)
	}
	enabled := strings.Fields(string(data))
	var want []string
	for _, ctl := range c.controllers() {
		if !slices.Contains(enabled, ctl) {
			want = append(want, "+"+ctl)
		}
	}
	if len(want) == 0 {
		return nil
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte(strings.Join(want, " ")), 0o644); err != nil {
		return fmt.Errorf("enable %v in cgroup %s: %w", want, dir, err)
	}
	return nil
}

// dirs returns the instance's directory in each hierarchy.
func (c *cgroups) dirs(leaf string) []string {
	out := make([]string, 0, len(c.mounts))
	for _, mp := range c.mounts {
		out = append(out, filepath.Join(mp, c.rel, leaf))
	}
	return out
}

func (c *cgroups) dir(ctl, leaf string) string {
	return filepath.Join(c.roots[ctl], c.rel, leaf)
}

// create makes the instance's cgroup(s) and sets its limits (0 = unlimited).
func (c *cgroups) create(leaf string, vcpu, memoryMB int) error {
	for _, d := range c.dirs(leaf) {
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create cgroup %s: %w", d, err)
		}
	}
	write := func(ctl, file, value string) error {
		p := filepath.Join(c.dir(ctl, leaf), file)
		if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
			return fmt.Errorf("cgroup %s=%s: %w", p, value, err)
		}
		return nil
	}
	const period = 100000
	if _, ok := c.roots["memory"]; ok && memoryMB > 0 {
		bytes := strconv.FormatInt(int64(memoryMB)<<20, 10)
		file := "memory.limit_in_bytes"
		if c.v2 {
			file = "memory.max"
		}
		if err := write("memory", file, bytes); err != nil {
			return err
		}
	}
	if _, ok := c.roots["cpu"]; ok && vcpu > 0 {
		quota := strconv.Itoa(vcpu * period)
		if c.v2 {
			if err := write("cpu", "cpu.max", quota+" "+strconv.Itoa(period)); err != nil {
				return err
			}
		} else {
			if err := write("cpu", "cpu.cfs_period_us", strconv.Itoa(period)); err != nil {
				return err
			}
			if err := write("cpu", "cpu.cfs_quota_us", quota); err != nil {
				return err
			}
		}
	}
	return nil
}

// memoryLimitFile is the file holding the instance's memory limit.
func (c *cgroups) memoryLimitFile(leaf string) string {
	if _, ok := c.roots["memory"]; !ok {
		return ""
	}
	if c.v2 {
		return filepath.Join(c.dir("memory", leaf), "memory.max")
	}
	return filepath.Join(c.dir("memory", leaf), "memory.limit_in_bytes")
}

// openDir opens the v2 instance directory for clone3(CLONE_INTO_CGROUP).
func (c *cgroups) openDir(leaf string) (int, error) {
	return unix.Open(c.dirs(leaf)[0], unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// place moves pid into the instance's cgroup(s).
func (c *cgroups) place(leaf string, pid int) error {
	for _, d := range c.dirs(leaf) {
		p := filepath.Join(d, "cgroup.procs")
		if err := os.WriteFile(p, []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return fmt.Errorf("move %d into %s: %w", pid, d, err)
		}
	}
	return nil
}

// procs lists the processes in the instance's cgroup(s).
func (c *cgroups) procs(leaf string) []int {
	var out []int
	for _, d := range c.dirs(leaf) {
		out = append(out, readPids(filepath.Join(d, "cgroup.procs"))...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func readPids(path string) []int {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// kill SIGKILLs every process in the instance's cgroup(s).
func (c *cgroups) kill(leaf string) {
	for _, d := range c.dirs(leaf) {
		killCgroupDir(d)
	}
}

func killCgroupDir(dir string) {
	// cgroup.kill (v2, Linux 5.14+) kills atomically, forks included.
	if err := os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0o644); err == nil {
		return
	}
	for range 10 {
		pids := readPids(filepath.Join(dir, "cgroup.procs"))
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// remove deletes the instance's cgroup(s), waiting briefly for killed
// processes to leave. Missing directories are fine.
func (c *cgroups) remove(leaf string) error {
	var errs []error
	for _, d := range c.dirs(leaf) {
		errs = append(errs, rmdirCgroup(d))
	}
	return errors.Join(errs...)
}

func rmdirCgroup(dir string) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return fmt.Errorf("remove cgroup %s: %w", dir, err)
		}
		killCgroupDir(dir)
		time.Sleep(10 * time.Millisecond)
	}
}

// leaves lists the instance cgroups present under stitch/<prefix>.
func (c *cgroups) leaves() []string {
	var out []string
	for _, mp := range c.mounts {
		entries, _ := os.ReadDir(filepath.Join(mp, c.rel))
		for _, e := range entries {
			if e.IsDir() {
				out = append(out, e.Name())
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// purgeCgroups kills and removes stitch/<prefix> in every hierarchy, without
// records.
func purgeCgroups(prefix string) error {
	v2, v1, err := cgroupMounts()
	if err != nil {
		return err
	}
	mounts := []string{}
	if v2 != "" {
		mounts = append(mounts, v2)
	}
	for _, mp := range v1 {
		if !slices.Contains(mounts, mp) {
			mounts = append(mounts, mp)
		}
	}
	var errs []error
	for _, mp := range mounts {
		base := filepath.Join(mp, cgroupParent, prefix)
		entries, err := os.ReadDir(base)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if e.IsDir() {
				errs = append(errs, rmdirCgroup(filepath.Join(base, e.Name())))
			}
		}
		errs = append(errs, rmdirCgroup(base))
		unix.Rmdir(filepath.Join(mp, cgroupParent)) // shared; fails while in use
	}
	return errors.Join(errs...)
}

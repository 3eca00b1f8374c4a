package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/internal/testenv"
	"github.com/stitchnfv/stitch/vim"
)

// readGreeting dials addr from a site and returns the server's greeting.
func readGreeting(t *testing.T, d *Driver, site, network, addr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var lastErr error
	for ctx.Err() == nil {
		c, err := d.DialContext(ctx, site, network, addr)
		if err == nil {
			c.SetDeadline(time.Now().Add(3 * time.Second))
			line, err := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if err == nil {
				return strings.TrimSpace(line)
			}
		}
		lastErr = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("dial %s from site %s: %v", addr, site, lastErr)
	return ""
}

func TestTwoInstancesOneNetwork(t *testing.T) {
	t.Parallel()
	echo := echoBinary(t)
	d := newDriver(t)
	ctx := context.Background()
	mustNetwork(t, d, "net1", "10.77.1.0/24", "a")

	srv := mustCreate(t, d, vim.InstanceSpec{
		Name: "srv", Site: "a", Program: echo, Args: []string{"-listen", ":7000", "-reply", "srv"},
		Ports: []vim.PortSpec{{Name: "cp0", Network: "net1"}},
	})
	if got := srv.Ports[0]; got.IP != "10.77.1.2" || got.Iface != "eth0" || got.MAC == "" || got.Network != "net1" {
		t.Fatalf("srv port = %+v, want 10.77.1.2 on eth0 with a MAC", got)
	}
	cli := mustStart(t, d, vim.InstanceSpec{
		Name: "cli", Site: "a", Program: echo,
		Args:  []string{"-connect", "10.77.1.2:7000", "-expect", "srv"},
		Ports: []vim.PortSpec{{Name: "cp0", Network: "net1", MAC: "0A:00:00:77:01:03"}},
	})
	if cli.Ports[0].IP != "10.77.1.3" || cli.Ports[0].MAC != "0a:00:00:77:01:03" {
		t.Fatalf("cli port = %+v, want 10.77.1.3 with the MAC asked for", cli.Ports[0])
	}
	if got := waitStatus(t, d, "cli", vim.StatusExited, 20*time.Second); got.ExitCode != 0 {
		log, _ := os.ReadFile(got.LogPath)
		t.Fatalf("client exit code %d; log:\n%s", got.ExitCode, log)
	}
	if g := readGreeting(t, d, "a", "tcp", "10.77.1.2:7000"); g != "srv" {
		t.Fatalf("greeting from the site = %q", g)
	}
	// Dialling by stitch network name uses the site's address on it.
	c, err := d.DialContext(ctx, "a", "net1", "10.77.1.2:7000")
	if err != nil {
		t.Fatalf("DialContext by network name: %v", err)
	}
	if local := c.LocalAddr().String(); !strings.HasPrefix(local, "10.77.1.1:") {
		t.Errorf("local address %s, want the site's 10.77.1.1", local)
	}
	c.Close()
	if _, err := d.DialContext(ctx, "nope", "tcp", "10.77.1.2:7000"); !errors.Is(err, vim.ErrUnknownSite) {
		t.Errorf("dial from unknown site: %v", err)
	}

	list, err := d.ListInstances(ctx, nil)
	if err != nil || len(list) != 2 || list[0].Name != "cli" || list[1].Name != "srv" {
		t.Fatalf("ListInstances = %v, %v", list, err)
	}
	sites, _ := d.Sites(ctx)
	if sites[0].Used.Instances != 2 {
		t.Errorf("Sites used = %+v", sites[0].Used)
	}
	requireNoLeaks(t, d)

	// The network is in use: it cannot go.
	err = d.DeleteNetwork(ctx, "net1")
	if !errors.Is(err, vim.ErrInvalid) || !strings.Contains(err.Error(), "cli") {
		t.Fatalf("DeleteNetwork in use = %v, want ErrInvalid naming an instance", err)
	}
	for _, name := range []string{"srv", "cli"} {
		if err := d.DeleteInstance(ctx, name, time.Second); err != nil {
			t.Fatalf("DeleteInstance %s: %v", name, err)
		}
	}
	if err := d.DeleteNetwork(ctx, "net1"); err != nil {
		t.Fatalf("DeleteNetwork: %v", err)
	}
	if err := d.DeleteNetwork(ctx, "net1"); err != nil {
		t.Fatalf("DeleteNetwork again: %v", err)
	}
	if err := d.DeleteInstance(ctx, "srv", 0); err != nil {
		t.Fatalf("DeleteInstance of a missing instance: %v", err)
	}
	requireNoLeaks(t, d)
	if _, err := os.Stat(srv.LogPath); err != nil {
		t.Errorf("log removed with the instance: %v", err)
	}
}

func TestStretchedNetwork(t *testing.T) {
	t.Parallel()
	echo := echoBinary(t)
	d := newDriver(t, SiteConfig{Name: "a"}, SiteConfig{Name: "b"})
	mustNetwork(t, d, "wan", "10.77.2.0/24", "a", "b")
	mustNetwork(t, d, "onlyb", "10.77.3.0/24", "b")

	srv := mustCreate(t, d, vim.InstanceSpec{
		Name: "srv", Site: "b", Program: echo, Args: []string{"-listen", ":7000", "-reply", "on-b"},
		Ports: []vim.PortSpec{{Name: "cp0", Network: "wan"}, {Name: "cp1", Network: "onlyb", IP: "10.77.3.9"}},
	})
	// Two sites: .1 and .2 are the sites' addresses.
	if srv.Ports[0].IP != "10.77.2.3" || srv.Ports[1].IP != "10.77.3.9" || srv.Ports[1].Iface != "eth1" {
		t.Fatalf("srv ports = %+v", srv.Ports)
	}
	mustStart(t, d, vim.InstanceSpec{
		Name: "cli", Site: "a", Program: echo,
		Args:  []string{"-connect", "10.77.2.3:7000", "-expect", "on-b"},
		Ports: []vim.PortSpec{{Name: "cp0", Network: "wan"}},
	})
	if got := waitStatus(t, d, "cli", vim.StatusExited, 20*time.Second); got.ExitCode != 0 {
		log, _ := os.ReadFile(got.LogPath)
		t.Fatalf("client on site a could not reach site b: exit %d; log:\n%s", got.ExitCode, log)
	}
	// From site a's namespace, across the stretched L2 segment.
	if g := readGreeting(t, d, "a", "tcp", "10.77.2.3:7000"); g != "on-b" {
		t.Fatalf("greeting = %q", g)
	}
	// Site b routes to the instance's second network too.
	if g := readGreeting(t, d, "b", "tcp", "10.77.3.9:7000"); g != "on-b" {
		t.Fatalf("greeting = %q", g)
	}
	// onlyb does not reach site a.
	_, err := d.CreateInstance(context.Background(), vim.InstanceSpec{
		Name: "x", Site: "a", Program: "sleep", Args: []string{"1"},
		Ports: []vim.PortSpec{{Network: "onlyb"}},
	})
	if !errors.Is(err, vim.ErrInvalid) {
		t.Fatalf("port on a network that does not reach the site: %v", err)
	}
	requireNoLeaks(t, d)
	if err := d.Destroy(context.Background()); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	requireNoLeaks(t, d)
	assertNothingLeft(t, d.prefix)
}

func TestCreateIsIdempotent(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	ctx := context.Background()
	mustNetwork(t, d, "n", "10.77.4.0/24", "a")
	spec := sleeper("one", vim.PortSpec{Network: "n"})
	first := mustCreate(t, d, spec)
	pid := instancePid(t, d, "one")

	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			again, err := d.CreateInstance(ctx, spec)
			if err != nil || again.Status != vim.StatusRunning || again.Ports[0].IP != first.Ports[0].IP {
				t.Errorf("second create = %+v, %v", again, err)
			}
		}()
	}
	wg.Wait()
	if got := instancePid(t, d, "one"); got != pid {
		t.Fatalf("pid changed: %d → %d", pid, got)
	}
	if n, _ := d.EnsureNetwork(ctx, vim.NetworkSpec{Name: "n", CIDR: "10.77.4.0/24", Sites: []string{"a"}}); n.ID != "n" {
		t.Fatalf("EnsureNetwork again = %+v", n)
	}
	if _, err := d.EnsureNetwork(ctx, vim.NetworkSpec{Name: "n", CIDR: "10.77.5.0/24", Sites: []string{"a"}}); !errors.Is(err, vim.ErrInvalid) {
		t.Fatalf("EnsureNetwork with another CIDR: %v", err)
	}
	if _, err := d.EnsureNetwork(ctx, vim.NetworkSpec{Name: "m", CIDR: "10.77.4.128/25", Sites: []string{"a"}}); !errors.Is(err, vim.ErrInvalid) {
		t.Fatalf("EnsureNetwork overlapping: %v", err)
	}
	// One process in the instance's cgroup/namespace: the sleep.
	d.mu.Lock()
	netns := d.insts["one"].rec.NetNS
	d.mu.Unlock()
	id, _ := namedns.IDOf(namedns.Path(netns))
	if pids := netnsProcs(map[namedns.ID]string{id: netns})[id]; len(pids) != 1 || pids[0] != pid {
		t.Fatalf("processes in the instance namespace: %v, want [%d]", pids, pid)
	}
	list, _ := d.ListInstances(ctx, nil)
	if len(list) != 1 {
		t.Fatalf("%d instances", len(list))
	}
	requireNoLeaks(t, d)
}

func TestCapacity(t *testing.T) {
	t.Parallel()
	d := newDriver(t, SiteConfig{Name: "a", Capacity: vim.Resources{VCPU: 2, Instances: 2}})
	ctx := context.Background()
	mustNetwork(t, d, "n", "10.77.6.0/24", "a")
	s := sleeper("big", vim.PortSpec{Network: "n"})
	s.VCPU = 2
	mustCreate(t, d, s)

	s2 := sleeper("more", vim.PortSpec{Network: "n"})
	s2.VCPU = 1
	if _, err := d.CreateInstance(ctx, s2); !errors.Is(err, vim.ErrNoCapacity) {
		t.Fatalf("create beyond VCPU capacity: %v", err)
	}
	mustCreate(t, d, sleeper("small", vim.PortSpec{Network: "n"})) // 0 VCPU fits
	if _, err := d.CreateInstance(ctx, sleeper("third")); !errors.Is(err, vim.ErrNoCapacity) {
		t.Fatalf("create beyond instance count: %v", err)
	}
	sites, _ := d.Sites(ctx)
	if u := sites[0].Used; u.VCPU != 2 || u.Instances != 2 {
		t.Fatalf("used = %+v", u)
	}
	if _, err := d.GetInstance(ctx, "more"); !errors.Is(err, vim.ErrNotFound) {
		t.Fatalf("the refused instance exists: %v", err)
	}
	requireNoLeaks(t, d)
	if names, _ := namedns.List(d.prefix + "-i-"); len(names) != 2 {
		t.Fatalf("instance namespaces: %v", names)
	}
	// Freed capacity is usable again; the freed address is reused.
	if err := d.DeleteInstance(ctx, "small", 0); err != nil {
		t.Fatal(err)
	}
	again := mustCreate(t, d, sleeper("again", vim.PortSpec{Network: "n"}))
	if again.Ports[0].IP != "10.77.6.3" {
		t.Fatalf("reused address = %s, want 10.77.6.3", again.Ports[0].IP)
	}
}

func TestInvalidRequestsCreateNothing(t *testing.T) {
	t.Parallel()
	d := newDriver(t, SiteConfig{Name: "a"}, SiteConfig{Name: "b"})
	ctx := context.Background()
	mustNetwork(t, d, "n", "10.77.7.0/24", "a")
	mustCreate(t, d, sleeper("taken", vim.PortSpec{Network: "n", IP: "10.77.7.10"}))

	cases := []struct {
		name string
		spec vim.InstanceSpec
		want error
	}{
		{"unknown site", vim.InstanceSpec{Name: "x", Site: "zz", Program: "sleep"}, vim.ErrUnknownSite},
		{"unknown site and program", vim.InstanceSpec{Name: "x", Site: "zz", Program: "no-such-program-stitch"}, vim.ErrUnknownSite},
		{"unknown network", sleeper("x", vim.PortSpec{Network: "nope"}), vim.ErrInvalid},
		{"unknown program", vim.InstanceSpec{Name: "x", Site: "a", Program: "no-such-program-stitch"}, vim.ErrInvalid},
		{"no program", vim.InstanceSpec{Name: "x", Site: "a"}, vim.ErrInvalid},
		{"bad name", vim.InstanceSpec{Name: "a/b", Site: "a", Program: "sleep"}, vim.ErrInvalid},
		{"network not on site", vim.InstanceSpec{Name: "x", Site: "b", Program: "sleep", Ports: []vim.PortSpec{{Network: "n"}}}, vim.ErrInvalid},
		{"IP outside CIDR", sleeper("x", vim.PortSpec{Network: "n", IP: "10.1.1.1"}), vim.ErrInvalid},
		{"multicast MAC", sleeper("x", vim.PortSpec{Network: "n", MAC: "03:00:00:00:00:01"}), vim.ErrInvalid},
		{"bad MAC", sleeper("x", vim.PortSpec{Network: "n", MAC: "02:00:00"}), vim.ErrInvalid},
		{"IP of a site", sleeper("x", vim.PortSpec{Network: "n", IP: "10.77.7.2"}), vim.ErrInvalid},
		{"IP taken", sleeper("x", vim.PortSpec{Network: "n", IP: "10.77.7.10"}), vim.ErrInvalid},
		{"IP twice", sleeper("x", vim.PortSpec{Network: "n", IP: "10.77.7.20"}, vim.PortSpec{Network: "n", IP: "10.77.7.20"}), vim.ErrInvalid},
		{"IP garbage", sleeper("x", vim.PortSpec{Network: "n", IP: "ten"}), vim.ErrInvalid},
	}
	for _, c := range cases {
		if _, err := d.CreateInstance(ctx, c.spec); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	netCases := []struct {
		name string
		spec vim.NetworkSpec
		want error
	}{
		{"IPv6", vim.NetworkSpec{Name: "v6", CIDR: "fd00::/64", Sites: []string{"a"}}, vim.ErrInvalid},
		{"bad CIDR", vim.NetworkSpec{Name: "bad", CIDR: "10.0.0.0/33", Sites: []string{"a"}}, vim.ErrInvalid},
		{"too small", vim.NetworkSpec{Name: "small", CIDR: "10.0.0.0/30", Sites: []string{"a"}}, vim.ErrInvalid},
		{"unknown site", vim.NetworkSpec{Name: "s", CIDR: "10.0.0.0/24", Sites: []string{"zz"}}, vim.ErrUnknownSite},
		{"no site", vim.NetworkSpec{Name: "s", CIDR: "10.0.0.0/24"}, vim.ErrInvalid},
	}
	for _, c := range netCases {
		if _, err := d.EnsureNetwork(ctx, c.spec); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	// A failure half way (the second port) is undone.
	d.hooks = &testHooks{fail: func(step string) error {
		if step == "process" {
			return errors.New("injected failure")
		}
		return nil
	}}
	if _, err := d.CreateInstance(ctx, sleeper("half", vim.PortSpec{Network: "n"}, vim.PortSpec{Network: "n"})); err == nil {
		t.Fatal("injected failure not reported")
	}
	d.hooks = nil
	list, _ := d.ListInstances(ctx, nil)
	if len(list) != 1 {
		t.Fatalf("instances after failures: %+v", list)
	}
	requireNoLeaks(t, d)
	if names, _ := namedns.List(d.prefix + "-i-"); len(names) != 1 {
		t.Fatalf("instance namespaces: %v", names)
	}
	// The addresses of the undone create are free again.
	if got := mustCreate(t, d, sleeper("next", vim.PortSpec{Network: "n"})); got.Ports[0].IP != "10.77.7.3" {
		t.Fatalf("next IP = %s", got.Ports[0].IP)
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	mustStart(t, d, vim.InstanceSpec{Name: "quits", Site: "a", Program: "sh", Args: []string{"-c", "echo bye; exit 7"},
		Env: map[string]string{"GREETING": "hi"}})
	got := waitStatus(t, d, "quits", vim.StatusExited, 10*time.Second)
	if got.ExitCode != 7 {
		t.Fatalf("exit code %d, want 7", got.ExitCode)
	}
	if log, _ := os.ReadFile(got.LogPath); string(log) != "bye\n" {
		t.Fatalf("log = %q", log)
	}
	// An exited instance is returned as it is by CreateInstance.
	again, err := d.CreateInstance(context.Background(), vim.InstanceSpec{Name: "quits", Site: "a", Program: "sh"})
	if err != nil || again.Status != vim.StatusExited || again.ExitCode != 7 {
		t.Fatalf("create of an exited instance = %+v, %v", again, err)
	}
	mustStart(t, d, vim.InstanceSpec{Name: "killed", Site: "a", Program: "sh", Args: []string{"-c", "kill -9 $$"}})
	if got := waitStatus(t, d, "killed", vim.StatusExited, 10*time.Second); got.ExitCode != 128+9 {
		t.Fatalf("exit code of a killed process %d, want 137", got.ExitCode)
	}
	// The environment reaches the program.
	mustStart(t, d, vim.InstanceSpec{Name: "env", Site: "a", Program: "sh", Args: []string{"-c", `test "$GREETING" = hi && test -n "$PATH"`},
		Env: map[string]string{"GREETING": "hi"}})
	if got := waitStatus(t, d, "env", vim.StatusExited, 10*time.Second); got.ExitCode != 0 {
		t.Fatalf("environment not passed: exit %d", got.ExitCode)
	}
	requireNoLeaks(t, d)
}

func TestDeleteGracefulAndForced(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	ctx := context.Background()
	mustCreate(t, d, vim.InstanceSpec{Name: "polite", Site: "a", Program: "sh",
		Args: []string{"-c", `trap 'echo got TERM; exit 0' TERM; echo ready; while :; do sleep 0.05; done`}})
	mustCreate(t, d, vim.InstanceSpec{Name: "stubborn", Site: "a", Program: "sh",
		Args: []string{"-c", `trap '' TERM; echo ready; while :; do sleep 0.05; done`}})
	for _, name := range []string{"polite", "stubborn"} {
		waitLog(t, d, name, "ready")
	}

	pid := instancePid(t, d, "polite")
	start := time.Now()
	if err := d.DeleteInstance(ctx, "polite", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("graceful delete took %v", took)
	}
	if log, _ := os.ReadFile(filepath.Join(d.store.logsDir(), "polite.log")); !strings.Contains(string(log), "got TERM") {
		t.Fatalf("program did not see SIGTERM; log %q", log)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
		t.Fatalf("process %d still exists", pid)
	}

	pid = instancePid(t, d, "stubborn")
	start = time.Now()
	if err := d.DeleteInstance(ctx, "stubborn", 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 300*time.Millisecond || took > 5*time.Second {
		t.Fatalf("forced delete took %v, want just over the grace", took)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("process %d survived", pid)
	}
	if _, err := d.GetInstance(ctx, "stubborn"); !errors.Is(err, vim.ErrNotFound) {
		t.Fatalf("GetInstance after delete: %v", err)
	}
	requireNoLeaks(t, d)
}

func waitLog(t *testing.T, d *Driver, name, want string) {
	t.Helper()
	path := filepath.Join(d.store.logsDir(), name+".log")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, _ := os.ReadFile(path); strings.Contains(string(b), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never logged %q", name, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRestartAdoption(t *testing.T) {
	t.Parallel()
	echo := echoBinary(t)
	cfg := testConfig(t, SiteConfig{Name: "a"}, SiteConfig{Name: "b"})
	d1, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d1.Close() })
	ctx := context.Background()
	mustNetwork(t, d1, "n", "10.77.8.0/24", "a", "b")
	mustCreate(t, d1, vim.InstanceSpec{Name: "srv", Site: "b", Program: echo, Args: []string{"-listen", ":7000", "-reply", "adopted"},
		Ports: []vim.PortSpec{{Network: "n"}}})
	mustCreate(t, d1, sleeper("later"))
	mustCreate(t, d1, sleeper("gone"))
	pid := instancePid(t, d1, "srv")
	laterPid := instancePid(t, d1, "later")
	gonePid := instancePid(t, d1, "gone")
	if err := d1.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d1.GetInstance(ctx, "srv"); !errors.Is(err, ErrClosed) {
		t.Fatalf("GetInstance on a closed driver: %v", err)
	}
	// While no driver runs, one instance dies.
	syscall.Kill(gonePid, syscall.SIGKILL)

	d2 := openDriver(t, cfg)
	got, err := d2.GetInstance(ctx, "srv")
	if err != nil || got.Status != vim.StatusRunning {
		t.Fatalf("adopted instance = %+v, %v", got, err)
	}
	if p := instancePid(t, d2, "srv"); p != pid {
		t.Fatalf("pid %d after restart, want %d", p, pid)
	}
	if g := readGreeting(t, d2, "a", "tcp", got.Ports[0].IP+":7000"); g != "adopted" {
		t.Fatalf("greeting = %q", g)
	}
	if g := waitStatus(t, d2, "gone", vim.StatusExited, 5*time.Second); g.ExitCode != 128+9 && g.ExitCode != -1 {
		t.Fatalf("exit code of the instance that died meanwhile: %d", g.ExitCode)
	}
	// An adopted process that exits later is noticed.
	syscall.Kill(laterPid, syscall.SIGKILL)
	waitStatus(t, d2, "later", vim.StatusExited, 5*time.Second)
	// New addresses do not collide with adopted ones.
	again := mustCreate(t, d2, vim.InstanceSpec{Name: "new", Site: "a", Program: "sleep", Args: []string{"60"},
		Ports: []vim.PortSpec{{Network: "n"}}})
	if again.Ports[0].IP == got.Ports[0].IP {
		t.Fatalf("address %s handed out twice", again.Ports[0].IP)
	}
	requireNoLeaks(t, d2)
	if err := d2.DeleteInstance(ctx, "srv", time.Second); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("adopted process %d survived its deletion", pid)
	}
	requireNoLeaks(t, d2)
}

func TestInterruptedCreateIsRepaired(t *testing.T) {
	t.Parallel()
	for _, step := range []string{"port", "cgroup", "running"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			ctx := context.Background()
			d1, err := New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d1.Close() })
			mustNetwork(t, d1, "n", "10.77.9.0/24", "a")
			d1.hooks = &testHooks{crash: step}
			spec := sleeper("crashy", vim.PortSpec{Network: "n"}, vim.PortSpec{Network: "n"})
			if _, err := d1.CreateInstance(ctx, spec); err == nil {
				t.Fatal("simulated crash not reported")
			}
			d1.Close() // the daemon "died"

			data, err := os.ReadFile(filepath.Join(cfg.StateDir, "instances", "crashy.json"))
			if err != nil || !strings.Contains(string(data), `"PENDING"`) {
				t.Fatalf("no PENDING record after the crash: %v %s", err, data)
			}
			d2 := openDriver(t, cfg)
			if got, err := d2.GetInstance(ctx, "crashy"); err != nil || got.Status != vim.StatusPending {
				t.Fatalf("after restart = %+v, %v", got, err)
			}
			requireNoLeaks(t, d2) // partial objects are owned by the record
			got := mustCreate(t, d2, spec)
			if got.Ports[0].IP != "10.77.9.2" || got.Ports[1].IP != "10.77.9.3" {
				t.Fatalf("repaired ports = %+v", got.Ports)
			}
			requireNoLeaks(t, d2)
			d2.mu.Lock()
			netns := d2.insts["crashy"].rec.NetNS
			d2.mu.Unlock()
			id, _ := namedns.IDOf(namedns.Path(netns))
			if pids := netnsProcs(map[namedns.ID]string{id: netns})[id]; len(pids) != 1 {
				t.Fatalf("processes in the repaired instance: %v, want one", pids)
			}
		})
	}
}

func TestCgroupLimits(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	if d.cg == nil {
		testenv.Unavailable(t, "this host offers no cgroup controllers")
	}
	spec := sleeper("limited")
	spec.VCPU, spec.MemoryMB = 1, 64
	mustCreate(t, d, spec)
	d.mu.Lock()
	leaf := d.insts["limited"].rec.Cgroup
	pid := d.insts["limited"].rec.PID
	d.mu.Unlock()
	if file := d.cg.memoryLimitFile(leaf); file != "" {
		b, err := os.ReadFile(file)
		if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(64<<20) {
			t.Fatalf("%s = %q, %v; want %d", file, b, err, 64<<20)
		}
	}
	if _, ok := d.cg.roots["cpu"]; ok {
		file := filepath.Join(d.cg.dir("cpu", leaf), "cpu.cfs_quota_us")
		want := "100000"
		if d.cg.v2 {
			file, want = filepath.Join(d.cg.dir("cpu", leaf), "cpu.max"), "100000 100000"
		}
		if b, err := os.ReadFile(file); err != nil || strings.TrimSpace(string(b)) != want {
			t.Fatalf("%s = %q, %v; want %q", file, b, err, want)
		}
	}
	if pids := d.cg.procs(leaf); len(pids) != 1 || pids[0] != pid {
		t.Fatalf("cgroup processes %v, want [%d]", pids, pid)
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if !strings.Contains(string(b), leaf) {
		t.Fatalf("/proc/%d/cgroup does not name %s:\n%s", pid, leaf, b)
	}
	// Forks of the program stay inside.
	mustCreate(t, d, vim.InstanceSpec{Name: "forks", Site: "a", Program: "sh", Args: []string{"-c", "sleep 60 & sleep 60 & wait"}, MemoryMB: 32})
	d.mu.Lock()
	leaf2 := d.insts["forks"].rec.Cgroup
	d.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for len(d.cg.procs(leaf2)) != 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(d.cg.procs(leaf2)); n != 3 {
		t.Fatalf("%d processes in the cgroup, want 3", n)
	}
	if err := d.DeleteInstance(context.Background(), "forks", 0); err != nil {
		t.Fatal(err)
	}
	requireNoLeaks(t, d)
}

func TestConcurrentCreateDelete(t *testing.T) {
	t.Parallel()
	d := newDriver(t, SiteConfig{Name: "a"}, SiteConfig{Name: "b"})
	ctx := context.Background()
	mustNetwork(t, d, "n", "10.77.10.0/24", "a", "b")
	const n = 20
	var wg sync.WaitGroup
	ips := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			site := []string{"a", "b"}[i%2]
			inst, err := d.CreateInstance(ctx, vim.InstanceSpec{Name: fmt.Sprintf("c%d", i), Site: site,
				Program: "sleep", Args: []string{"600"}, Ports: []vim.PortSpec{{Network: "n"}}})
			if err != nil {
				t.Errorf("create c%d: %v", i, err)
				return
			}
			ips[i] = inst.Ports[0].IP
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, ip := range ips {
		if seen[ip] {
			t.Fatalf("address %s handed out twice: %v", ip, ips)
		}
		seen[ip] = true
	}
	requireNoLeaks(t, d)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.DeleteInstance(ctx, fmt.Sprintf("c%d", i), 0); err != nil {
				t.Errorf("delete c%d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	requireNoLeaks(t, d)
	if err := d.DeleteNetwork(ctx, "n"); err != nil {
		t.Fatal(err)
	}
	requireNoLeaks(t, d)
}

func TestDestroyLeavesNothing(t *testing.T) {
	t.Parallel()
	d := newDriver(t, SiteConfig{Name: "a"}, SiteConfig{Name: "b"})
	mustNetwork(t, d, "n", "10.77.11.0/24", "a", "b")
	for i := range 4 {
		spec := sleeper(fmt.Sprintf("s%d", i), vim.PortSpec{Network: "n"})
		spec.Site = []string{"a", "b"}[i%2]
		spec.MemoryMB = 16
		mustCreate(t, d, spec)
	}
	if err := d.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	requireNoLeaks(t, d)
	assertNothingLeft(t, d.prefix)
	if _, err := d.ListInstances(context.Background(), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("driver usable after Destroy: %v", err)
	}
}

func TestLeaksFindsStrangers(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	// A namespace with the prefix that no record owns, with a process in it.
	ns, err := namedns.Create(d.prefix + "-i-stranger")
	if err != nil {
		t.Fatal(err)
	}
	ns.Close()
	leaks, err := d.Leaks(context.Background())
	if err != nil || len(leaks) != 1 || !strings.Contains(leaks[0], "stranger") {
		t.Fatalf("Leaks = %q, %v", leaks, err)
	}
	// Purge (at cleanup) removes it.
}

func TestNewValidatesConfig(t *testing.T) {
	ctx := context.Background()
	for _, cfg := range []Config{
		{Prefix: "TOOLONG", StateDir: "/tmp/x", Sites: []SiteConfig{{Name: "a"}}},
		{Prefix: "Ab", StateDir: "/tmp/x", Sites: []SiteConfig{{Name: "a"}}},
		{Prefix: "ok", Sites: []SiteConfig{{Name: "a"}}},
		{Prefix: "ok", StateDir: "/tmp/x"},
		{Prefix: "ok", StateDir: "/tmp/x", Sites: []SiteConfig{{Name: "a"}, {Name: "a"}}},
		{Prefix: "ok", StateDir: "/tmp/x", Sites: []SiteConfig{{Name: "a/b"}}},
	} {
		if _, err := New(ctx, cfg); !errors.Is(err, vim.ErrInvalid) {
			t.Errorf("New(%+v) = %v, want ErrInvalid", cfg, err)
		}
	}
}

func TestPrefixIsExclusive(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	openDriver(t, cfg)
	other := cfg
	other.StateDir = t.TempDir()
	if _, err := New(context.Background(), other); err == nil {
		t.Fatal("two drivers share a prefix")
	}
}

// TestNetworkRepair: after a reboot-like loss of links (READY record) New
// restores them; an interrupted network create (PENDING record) is finished
// by EnsureNetwork.
func TestNetworkRepair(t *testing.T) {
	t.Parallel()
	echo := echoBinary(t)
	cfg := testConfig(t, SiteConfig{Name: "a"}, SiteConfig{Name: "b"})
	ctx := context.Background()
	d1, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d1.Close() })
	mustNetwork(t, d1, "wan", "10.77.12.0/24", "a", "b")
	d1.mu.Lock()
	rec := d1.nets["wan"].rec.clone()
	d1.mu.Unlock()
	d1.Close()

	// Lose the bridge of site b and the inter-site link.
	if err := deleteLink(siteHandle(t, cfg.Prefix, "b"), rec.Bridge); err != nil {
		t.Fatal(err)
	}
	if err := deleteLink(siteHandle(t, cfg.Prefix, "a"), rec.Links[0].PeerIface); err != nil {
		t.Fatal(err)
	}
	d2 := openDriver(t, cfg)
	requireNoLeaks(t, d2)
	mustCreate(t, d2, vim.InstanceSpec{Name: "srv", Site: "b", Program: echo, Args: []string{"-listen", ":7000", "-reply", "b"},
		Ports: []vim.PortSpec{{Network: "wan", IP: "10.77.12.50"}}})
	if g := readGreeting(t, d2, "a", "tcp", "10.77.12.50:7000"); g != "b" {
		t.Fatalf("greeting = %q", g)
	}

	// An interrupted create: the record says PENDING and only part exists.
	rec2 := rec
	rec2.Name, rec2.CIDR, rec2.Status = "half", "10.77.13.0/24", netPending
	rec2.Bridge = ifName(cfg.Prefix, 'b', "bridge\x00half", 0)
	rec2.Links = []interSiteLink{{Site: "b", Iface: ifName(cfg.Prefix, 'w', "half\x00b\x00a", 0),
		Peer: "a", PeerIface: ifName(cfg.Prefix, 'w', "half\x00a\x00b", 0)}}
	if err := writeJSON(filepath.Join(cfg.StateDir, "networks", "half.json"), &rec2); err != nil {
		t.Fatal(err)
	}
	d2.Close()
	d3 := openDriver(t, cfg)
	if _, err := d3.CreateInstance(ctx, sleeper("x", vim.PortSpec{Network: "half"})); !errors.Is(err, vim.ErrInvalid) {
		t.Fatalf("instance on a pending network: %v", err)
	}
	requireNoLeaks(t, d3)
	if _, err := d3.EnsureNetwork(ctx, vim.NetworkSpec{Name: "half", CIDR: "10.77.13.0/24", Sites: []string{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, d3, sleeper("x", vim.PortSpec{Network: "half"}))
	requireNoLeaks(t, d3)
}

func siteHandle(t *testing.T, prefix, site string) *netlink.Handle {
	t.Helper()
	ns, err := namedns.Open(siteNetNS(prefix, site))
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

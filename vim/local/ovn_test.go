package local

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/internal/ovnhost"
	"github.com/stitchnfv/stitch/internal/testenv"
	"github.com/stitchnfv/stitch/vim"
)

// requireOVN skips (fails under CI=true) unless OVS and OVN can run here.
func requireOVN(t *testing.T) {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "ovsdb-server", "ovsdb-tool", "ovs-vswitchd", "ovs-vsctl", "ovs-appctl",
		"ovn-controller", "ovn-northd", "ovn-nbctl", "ovn-sbctl", "ip")
	for _, p := range []string{ovnhost.VSwitchSchema, ovnhost.NBSchema, ovnhost.SBSchema, "/dev/net/tun"} {
		if _, err := os.Stat(p); err != nil {
			testenv.Unavailable(t, "this test needs "+p)
		}
	}
}

// startCentral runs an OVN central (NB, SB, northd) for t.
func startCentral(t *testing.T) *ovnhost.Central {
	t.Helper()
	requireOVN(t)
	dir, err := os.MkdirTemp("", "vlc")
	if err != nil {
		t.Fatal(err)
	}
	tag := "vim/local-test:" + filepath.Base(dir)
	c, err := ovnhost.StartCentral(context.Background(), dir, tag)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("central stop: %v", err)
		}
		ovnhost.KillTagged(tag)
		os.RemoveAll(dir)
	})
	return c
}

func nbctl(t *testing.T, c *ovnhost.Central, args ...string) string {
	t.Helper()
	out, err := c.Ctl(context.Background(), "ovn-nbctl", append([]string{"--db=" + c.NB, "--timeout=20"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ovnTestConfig is testConfig on the OVN fabric of central.
func ovnTestConfig(t *testing.T, central *ovnhost.Central, sites ...SiteConfig) Config {
	t.Helper()
	cfg := testConfig(t, sites...)
	cfg.OVN = &OVNConfig{SBRemote: central.SB}
	t.Cleanup(func() {
		// Runs after the driver's Destroy: no chassis process may remain.
		for _, p := range ovnhost.TaggedProcs(chassisTagPrefix(cfg.Prefix)) {
			t.Errorf("chassis process left: %d %s", p.Pid, p.Cmdline)
		}
		for _, pid := range procsMentioning(cfg.StateDir) {
			t.Errorf("process %d still refers to the state dir %s", pid, cfg.StateDir)
		}
	})
	return cfg
}

// procsMentioning lists live processes whose command line or working
// directory names dir.
func procsMentioning(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil || pid == os.Getpid() {
			continue
		}
		cmd, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		cwd, _ := os.Readlink("/proc/" + e.Name() + "/cwd")
		stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			continue
		}
		if bytes.Contains(cmd, []byte(dir)) || strings.HasPrefix(cwd, dir) {
			out = append(out, pid)
		}
	}
	return out
}

// addLogicalSwitch writes what the orchestrator would: a logical switch
// for the network with a port per access port and instance port, each
// with the MAC and IP the VIM reported; it returns once every chassis has
// caught up.
func addLogicalSwitch(t *testing.T, c *ovnhost.Central, n vim.Network, insts ...vim.Instance) {
	t.Helper()
	args := []string{"--may-exist", "ls-add", n.Name}
	add := func(lp, mac, ip string) {
		args = append(args, "--", "--may-exist", "lsp-add", n.Name, lp, "--", "lsp-set-addresses", lp, mac+" "+ip)
	}
	for _, a := range n.Access {
		add(a.LogicalPort, a.MAC, a.IP)
	}
	for _, inst := range insts {
		for _, p := range inst.Ports {
			if p.Network == n.ID {
				add(p.LogicalPort, p.MAC, p.IP)
			}
		}
	}
	nbctl(t, c, append([]string{"--wait=hv"}, args...)...)
}

// bulkEcho talks to the echo helper's server over conn: it reads the
// greeting, sends 64 KiB (many full-sized segments, so an MTU or checksum
// problem shows) and expects them back.
func bulkEcho(conn net.Conn, want string) error {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if got := strings.TrimSpace(line); got != want {
		return fmt.Errorf("greeting %q, want %q", got, want)
	}
	msg := bytes.Repeat([]byte("stitch over geneve "), 64<<10/19)
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Write(msg)
		if err == nil {
			err = conn.(*net.TCPConn).CloseWrite()
		}
		errc <- err
	}()
	got, err := io.ReadAll(br)
	if werr := <-errc; werr != nil || err != nil {
		return errors.Join(werr, err)
	}
	if !bytes.Equal(got, msg) {
		return fmt.Errorf("got %d bytes back, sent %d", len(got), len(msg))
	}
	return nil
}

// dialFromNetNS dials addr from inside a named namespace.
func dialFromNetNS(ns, addr string) (net.Conn, error) {
	var c net.Conn
	err := namedns.DoNamed(ns, func() (err error) {
		c, err = net.DialTimeout("tcp4", addr, 5*time.Second)
		return err
	})
	return c, err
}

// retry runs fn until it succeeds or 15 s pass (OVN converges quickly,
// but the first packets of a flow may wait for a tunnel neighbour).
func retry(t *testing.T, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func instanceNS(t *testing.T, d *Driver, name string) string {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.insts[name].rec.NetNS
}

// checkTraffic shows TCP across the fabric: instance on site b → instance
// on site a (through the Geneve tunnel), and each site's access port →
// the instance on site a (DialContext).
func checkTraffic(t *testing.T, d *Driver, srvA, srvB vim.Instance) {
	t.Helper()
	ipA := srvA.Ports[0].IP + ":7000"
	ipB := srvB.Ports[0].IP + ":7000"
	retry(t, "instance b → instance a", func() error {
		c, err := dialFromNetNS(instanceNS(t, d, srvB.Name), ipA)
		if err != nil {
			return err
		}
		return bulkEcho(c, "srv-a")
	})
	retry(t, "instance a → instance b", func() error {
		c, err := dialFromNetNS(instanceNS(t, d, srvA.Name), ipB)
		if err != nil {
			return err
		}
		return bulkEcho(c, "srv-b")
	})
	for _, site := range []string{"a", "b"} {
		retry(t, "site "+site+" → instance a", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := d.DialContext(ctx, site, "net1", ipA)
			if err != nil {
				return err
			}
			return bulkEcho(c, "srv-a")
		})
	}
}

// ovnScenario creates net1 on sites a and b, an echo server on each site,
// the NB topology for them, and checks traffic.
func ovnScenario(t *testing.T, d *Driver, central *ovnhost.Central, echo, cidr string) (vim.Network, vim.Instance, vim.Instance) {
	t.Helper()
	ctx := context.Background()
	n, err := d.EnsureNetwork(ctx, vim.NetworkSpec{Name: "net1", CIDR: cidr, Sites: []string{"a", "b"},
		AccessPorts: map[string]string{"a": "acc-a", "b": "acc-b"}})
	if err != nil {
		t.Fatalf("EnsureNetwork: %v", err)
	}
	srvA := mustCreate(t, d, vim.InstanceSpec{Name: "srv-a", Site: "a", Program: echo,
		Args:  []string{"-listen", ":7000", "-reply", "srv-a"},
		Ports: []vim.PortSpec{{Name: "cp0", Network: "net1", LogicalPort: "lp-srv-a"}}})
	srvB := mustCreate(t, d, vim.InstanceSpec{Name: "srv-b", Site: "b", Program: echo,
		Args:  []string{"-listen", ":7000", "-reply", "srv-b"},
		Ports: []vim.PortSpec{{Name: "cp0", Network: "net1", LogicalPort: "lp-srv-b"}}})
	addLogicalSwitch(t, central, n, srvA, srvB)
	checkTraffic(t, d, srvA, srvB)
	return n, srvA, srvB
}

// TestOVNFabric runs the OVN fabric on an underlay the driver builds: the
// contract with the orchestrator (gateway, access ports, logical ports,
// MACs), TCP across the Geneve tunnel and from the sites, a restart of the
// driver that adopts the chassis (and one that restarts a killed
// ovs-vswitchd), and a Destroy that leaves nothing.
func TestOVNFabric(t *testing.T) {
	t.Parallel()
	echo := echoBinary(t)
	central := startCentral(t)
	cfg := ovnTestConfig(t, central, SiteConfig{Name: "a"}, SiteConfig{Name: "b"})
	ctx := context.Background()
	t0 := time.Now()
	d := openDriver(t, cfg)
	t.Logf("New with two chassis: %v", time.Since(t0))

	n, srvA, srvB := ovnScenario(t, d, central, echo, "10.78.1.0/24")
	if n.Gateway != "10.78.1.1" {
		t.Errorf("Gateway = %q, want 10.78.1.1", n.Gateway)
	}
	if len(n.Access) != 2 || n.Access[0] != (vim.AccessPort{Site: "a", LogicalPort: "acc-a", IP: "10.78.1.2", MAC: accessMAC(cfg.Prefix, "net1", "a").String()}) ||
		n.Access[1].Site != "b" || n.Access[1].IP != "10.78.1.3" || n.Access[1].LogicalPort != "acc-b" {
		t.Errorf("Access = %+v", n.Access)
	}
	for i, inst := range []vim.Instance{srvA, srvB} {
		p := inst.Ports[0]
		if want := fmt.Sprintf("10.78.1.%d", 4+i); p.IP != want || p.MAC != portMAC(inst.Name, 0).String() ||
			p.LogicalPort != "lp-"+inst.Name {
			t.Errorf("%s port = %+v, want IP %s, MAC %s", inst.Name, p, want, portMAC(inst.Name, 0))
		}
	}
	// Inside the instance: MTU 1400, the MAC reported, a default route via
	// the gateway.
	out, err := exec.Command("ip", "-n", instanceNS(t, d, "srv-a"), "-o", "link", "show", "eth0").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "mtu 1400") || !strings.Contains(string(out), srvA.Ports[0].MAC) {
		t.Errorf("eth0 of srv-a: %v %s", err, out)
	}
	out, err = exec.Command("ip", "-n", instanceNS(t, d, "srv-a"), "route", "show", "default").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "via 10.78.1.1") {
		t.Errorf("default route of srv-a: %v %s", err, out)
	}
	if _, err := d.EnsureNetwork(ctx, vim.NetworkSpec{Name: "net2", CIDR: "10.78.1.128/25", Sites: []string{"a"},
		AccessPorts: map[string]string{"a": "acc2-a"}}); !errors.Is(err, vim.ErrInvalid) {
		t.Errorf("overlapping network: %v, want ErrInvalid", err)
	}
	requireNoLeaks(t, d)

	// Restart: the chassis processes are adopted, not restarted.
	pids := map[string]map[string]int{}
	for _, s := range []string{"a", "b"} {
		pids[s] = ovnhost.ChassisPids(d.chassisDir(s))
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	d = openDriver(t, cfg)
	t.Logf("New adopting two chassis: %v", time.Since(t0))
	for _, s := range []string{"a", "b"} {
		if got := ovnhost.ChassisPids(d.chassisDir(s)); fmt.Sprint(got) != fmt.Sprint(pids[s]) {
			t.Errorf("site %s chassis pids after restart %v, before %v", s, got, pids[s])
		}
	}
	if got, err := d.GetInstance(ctx, "srv-a"); err != nil || got.Status != vim.StatusRunning || got.Ports[0].LogicalPort != "lp-srv-a" {
		t.Fatalf("srv-a after restart = %+v, %v", got, err)
	}
	checkTraffic(t, d, srvA, srvB)
	requireNoLeaks(t, d)

	// A chassis daemon that died while the driver was down is restarted,
	// and what it lost (br-phy's and the access ports' addresses) restored.
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(pids["a"]["ovs-vswitchd"], syscall.SIGKILL)
	waitLeak(t, d, "site a: chassis ovs-vswitchd is not running")
	d = openDriver(t, cfg)
	if got := ovnhost.ChassisPids(d.chassisDir("a")); got["ovs-vswitchd"] == 0 || got["ovs-vswitchd"] == pids["a"]["ovs-vswitchd"] {
		t.Errorf("ovs-vswitchd of site a after restart: %v", got)
	}
	checkTraffic(t, d, srvA, srvB)
	requireNoLeaks(t, d)

	if err := d.Destroy(ctx); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	requireNoLeaks(t, d)
	sb, err := central.Ctl(ctx, "ovn-sbctl", "--db="+central.SB, "--bare", "--columns=name", "list", "Chassis")
	if err != nil || strings.TrimSpace(sb) != "" {
		t.Errorf("chassis left in SB: %q %v", sb, err)
	}
}

// TestOVNFabricLabNodes makes two existing namespaces (a lab's nodes joined
// by a WAN link) the sites: the tunnels cross that link, and Destroy gives
// the link its addresses back and leaves the namespaces.
func TestOVNFabricLabNodes(t *testing.T) {
	t.Parallel()
	echo := echoBinary(t)
	central := startCentral(t)
	nodes := [2]string{}
	for i := range nodes {
		nodes[i] = fmt.Sprintf("vlab%d-%d", os.Getpid(), i)
		h, err := namedns.Create(nodes[i])
		if err != nil {
			t.Fatal(err)
		}
		h.Close()
		t.Cleanup(func() { namedns.Delete(nodes[i]) })
	}
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	ip("-n", nodes[0], "link", "add", "wan0", "type", "veth", "peer", "name", "wan0", "netns", nodes[1])
	for i, ns := range nodes {
		ip("-n", ns, "addr", "add", fmt.Sprintf("192.168.99.%d/24", i+1), "dev", "wan0")
		ip("-n", ns, "link", "set", "wan0", "up")
		ip("-n", ns, "link", "set", "lo", "up")
	}
	cfg := ovnTestConfig(t, central,
		SiteConfig{Name: "a", NetNS: nodes[0], EncapIP: "192.168.99.1"},
		SiteConfig{Name: "b", NetNS: nodes[1], EncapIP: "192.168.99.2"})
	d := openDriver(t, cfg)
	ovnScenario(t, d, central, echo, "10.78.2.0/24")
	requireNoLeaks(t, d)
	if err := d.Destroy(context.Background()); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	requireNoLeaks(t, d)
	for i, ns := range nodes {
		out, _ := exec.Command("ip", "-n", ns, "-br", "addr").CombinedOutput()
		if !strings.Contains(string(out), fmt.Sprintf("192.168.99.%d/24", i+1)) || strings.Contains(string(out), "br-") ||
			strings.Contains(string(out), "ovs-netdev") {
			t.Errorf("node %s after Destroy:\n%s", ns, out)
		}
	}
}

// TestOVNFabricInvalid checks the requests the OVN fabric refuses before it
// creates anything.
func TestOVNFabricInvalid(t *testing.T) {
	t.Parallel()
	requireOVN(t)
	for _, tc := range []struct {
		name  string
		ovn   bool
		sites []SiteConfig
	}{
		{"NetNS without OVN", false, []SiteConfig{{Name: "a", NetNS: "x", EncapIP: "10.0.0.1"}}},
		{"EncapIP without NetNS", true, []SiteConfig{{Name: "a", EncapIP: "10.0.0.1"}}},
		{"NetNS without EncapIP", true, []SiteConfig{{Name: "a", NetNS: "x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Prefix: "zz", StateDir: t.TempDir(), Sites: tc.sites}
			if tc.ovn {
				cfg.OVN = &OVNConfig{SBRemote: "unix:/nonexistent"}
			}
			if _, err := New(context.Background(), cfg); !errors.Is(err, vim.ErrInvalid) {
				t.Fatalf("New = %v, want ErrInvalid", err)
			}
		})
	}

	central := startCentral(t)
	cfg := ovnTestConfig(t, central, SiteConfig{Name: "a"})
	d := openDriver(t, cfg)
	ctx := context.Background()
	if _, err := d.EnsureNetwork(ctx, vim.NetworkSpec{Name: "net1", CIDR: "10.78.3.0/24", Sites: []string{"a"}}); !errors.Is(err, vim.ErrInvalid) {
		t.Fatalf("EnsureNetwork without access ports = %v, want ErrInvalid", err)
	}
	if _, err := d.EnsureNetwork(ctx, vim.NetworkSpec{Name: "net1", CIDR: "10.78.3.0/24", Sites: []string{"a"},
		AccessPorts: map[string]string{"a": "acc-a"}}); err != nil {
		t.Fatal(err)
	}
	_, err := d.CreateInstance(ctx, sleeper("nolp", vim.PortSpec{Name: "cp0", Network: "net1"}))
	if !errors.Is(err, vim.ErrInvalid) {
		t.Fatalf("CreateInstance without LogicalPort = %v, want ErrInvalid", err)
	}
	if _, err := d.GetInstance(ctx, "nolp"); !errors.Is(err, vim.ErrNotFound) {
		t.Fatalf("GetInstance of the refused instance = %v", err)
	}
	if names, _ := namedns.List(instanceNetNS(cfg.Prefix, "nolp")); len(names) > 0 {
		t.Fatalf("refused instance left namespaces %v", names)
	}
	if _, err := os.Stat(d.store.instancePath("nolp")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("refused instance left a record: %v", err)
	}
	requireNoLeaks(t, d)
}

// TestOVNDaemonKilled runs a driver on the OVN fabric in a child process
// ("the daemon") and SIGKILLs it: the chassis processes and instances keep
// running, and a new driver adopts them (same pids) with traffic flowing.
func TestOVNDaemonKilled(t *testing.T) {
	t.Parallel()
	echo := echoBinary(t)
	central := startCentral(t)
	cfg := ovnTestConfig(t, central, SiteConfig{Name: "a"}, SiteConfig{Name: "b"})
	runAndKill(t, "TestHelperOVNDaemon", "STITCH_LOCAL_OVN_DAEMON", map[string]string{
		"prefix": cfg.Prefix, "stateDir": cfg.StateDir, "echo": echo, "sb": central.SB,
	})

	pids := map[string]map[string]int{}
	for _, s := range []string{"a", "b"} {
		pids[s] = ovnhost.ChassisPids(filepath.Join(cfg.StateDir, "ovn", s))
		if len(pids[s]) != 3 {
			t.Fatalf("site %s: chassis after the daemon died: %v", s, pids[s])
		}
	}
	d := openDriver(t, cfg)
	for _, s := range []string{"a", "b"} {
		if got := ovnhost.ChassisPids(d.chassisDir(s)); fmt.Sprint(got) != fmt.Sprint(pids[s]) {
			t.Errorf("site %s: chassis pids %v after New, %v before", s, got, pids[s])
		}
	}
	ctx := context.Background()
	nets, err := d.ListNetworks(ctx, nil)
	if err != nil || len(nets) != 1 {
		t.Fatalf("ListNetworks = %v, %v", nets, err)
	}
	insts, err := d.ListInstances(ctx, nil)
	if err != nil || len(insts) != 2 || insts[0].Status != vim.StatusRunning || insts[1].Status != vim.StatusRunning {
		t.Fatalf("ListInstances = %+v, %v", insts, err)
	}
	addLogicalSwitch(t, central, nets[0], insts...)
	checkTraffic(t, d, insts[0], insts[1])
	requireNoLeaks(t, d)
	if err := d.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	requireNoLeaks(t, d)
}

// TestHelperOVNDaemon is the daemon of TestOVNDaemonKilled; it does nothing
// in a normal run.
func TestHelperOVNDaemon(t *testing.T) {
	env := os.Getenv("STITCH_LOCAL_OVN_DAEMON")
	if env == "" {
		return // only runs as TestOVNDaemonKilled's child
	}
	var p map[string]string
	if err := json.Unmarshal([]byte(env), &p); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := New(ctx, Config{Prefix: p["prefix"], StateDir: p["stateDir"], Sites: []SiteConfig{{Name: "a"}, {Name: "b"}},
		OVN: &OVNConfig{SBRemote: p["sb"]}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.EnsureNetwork(ctx, vim.NetworkSpec{Name: "net1", CIDR: "10.78.4.0/24", Sites: []string{"a", "b"},
		AccessPorts: map[string]string{"a": "acc-a", "b": "acc-b"}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"a", "b"} {
		mustCreate(t, d, vim.InstanceSpec{Name: "srv-" + s, Site: s, Program: p["echo"],
			Args:  []string{"-listen", ":7000", "-reply", "srv-" + s},
			Ports: []vim.PortSpec{{Name: "cp0", Network: "net1", LogicalPort: "lp-srv-" + s}}})
	}
	os.Stdout.WriteString("DAEMON READY\n")
	select {} // until killed
}

// waitLeak waits until d's Leaks report want.
func waitLeak(t *testing.T, d *Driver, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		leaks, err := d.Leaks(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(leaks, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("leaks %q do not report %q", leaks, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestOVNPurge sweeps a driver on the OVN fabric by prefix alone, as a
// test's cleanup does after a crash: chassis processes, namespaces and the
// underlay go.
func TestOVNPurge(t *testing.T) {
	t.Parallel()
	central := startCentral(t)
	cfg := ovnTestConfig(t, central, SiteConfig{Name: "a"}, SiteConfig{Name: "b"})
	d := openDriver(t, cfg)
	ctx := context.Background()
	if _, err := d.EnsureNetwork(ctx, vim.NetworkSpec{Name: "net1", CIDR: "10.78.5.0/24", Sites: []string{"a", "b"},
		AccessPorts: map[string]string{"a": "acc-a", "b": "acc-b"}}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, d, sleeper("s1", vim.PortSpec{Name: "cp0", Network: "net1", LogicalPort: "lp-s1"}))
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if procs := ovnhost.TaggedProcs(chassisTagPrefix(cfg.Prefix)); len(procs) != 6 {
		t.Fatalf("chassis processes after Close: %v, want 6 (3 per site)", procs)
	}
	if err := Purge(ctx, cfg.Prefix); err != nil {
		t.Fatal(err)
	}
	if procs := ovnhost.TaggedProcs(chassisTagPrefix(cfg.Prefix)); len(procs) != 0 {
		t.Fatalf("chassis processes after Purge: %v", procs)
	}
	assertNothingLeft(t, cfg.Prefix)
}

package ovntest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/ovnhost"
	"github.com/stitchnfv/stitch/internal/testenv"
)

// VSwitchSchema is the Open_vSwitch database schema as Debian's
// openvswitch-common ships it.
const VSwitchSchema = "/usr/share/openvswitch/vswitch.ovsschema"

// convergeTimeout bounds waits for OVN to catch up (chassis registration,
// port binding); on an idle machine each takes well under a second.
const convergeTimeout = 10 * time.Second

// ChassisOptions configures AddChassis.
type ChassisOptions struct {
	// EncapIP is the chassis's Geneve tunnel endpoint (ovn-encap-ip). It
	// must be an address of the chassis namespace; empty means 127.0.0.1,
	// which is enough while the chassis is alone. Underlay overrides it.
	EncapIP string
	// Underlay, if valid, gives the chassis a tunnel endpoint other
	// chassis can reach once joined by LinkUnderlay: a netdev bridge br-phy
	// carrying this address, which becomes ovn-encap-ip.
	Underlay netip.Prefix
}

// Chassis is one hypervisor of an Env: an OVS database, ovs-vswitchd with
// the userspace (netdev) datapath and ovn-controller, all with a run
// directory of their own, the switch inside a network namespace of its own.
type Chassis struct {
	// Name is the chassis name in SB (Open_vSwitch external_ids:system-id).
	Name string
	// NetNS is the network namespace ovs-vswitchd runs in; its br-int and
	// tap devices live there, never in the root namespace.
	NetNS string
	// Dir is the run directory (OVS_RUNDIR and OVN_RUNDIR): databases,
	// sockets, pid files and logs.
	Dir string

	env      *Env
	ports    atomic.Uint32 // numbers the chassis-side veth ends
	underlay netip.Prefix  // br-phy's address, if any
}

// RequireChassis skips t (or fails it under CI=true) unless a chassis can
// run here: root for namespaces and veths, and the OVS and OVN host
// programs (Debian: openvswitch-switch, ovn-host, ethtool).
func RequireChassis(t testing.TB) {
	t.Helper()
	Require(t)
	testenv.RequireRoot(t)
	testenv.RequireCommands(t, "ip", "ethtool", "ovs-vswitchd", "ovs-vsctl", "ovs-appctl",
		"ovn-controller", "ovn-appctl")
	if _, err := os.Stat(VSwitchSchema); err != nil {
		testenv.Unavailable(t, "this test needs the OVS schema "+VSwitchSchema)
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		testenv.Unavailable(t, "the netdev datapath needs /dev/net/tun")
	}
}

// AddChassis starts a chassis named name (unique within e) and returns once
// ovn-controller has registered it in SB. Everything is torn down when t
// ends, also when it fails: ovn-controller leaves SB, ovs-vswitchd removes
// its bridges and tap devices, and the namespace is deleted.
func (e *Env) AddChassis(t testing.TB, name string, opts ChassisOptions) *Chassis {
	t.Helper()
	RequireChassis(t)
	if opts.EncapIP == "" {
		opts.EncapIP = "127.0.0.1"
	}
	if opts.Underlay.IsValid() {
		opts.EncapIP = opts.Underlay.Addr().String()
	}
	c := &Chassis{Name: name, NetNS: uniqueName("ovnt-ch"), Dir: shortTempDir(t), env: e}
	// Cleanups run in reverse: daemons registered below stop before the
	// namespace they run in is deleted.
	addNetNS(t, c.NetNS)

	db := filepath.Join(c.Dir, "conf.db")
	if out, err := exec.Command("ovsdb-tool", "create", db, VSwitchSchema).CombinedOutput(); err != nil {
		t.Fatalf("ovntest: chassis %s: ovsdb-tool create: %v: %s", name, err, out)
	}
	c.daemon(t, "ovsdb-server", "", "ovsdb-server",
		"--remote=punix:"+c.dbSocket(),
		"--pidfile="+filepath.Join(c.Dir, "ovsdb-server.pid"),
		"--unixctl="+filepath.Join(c.Dir, "ovsdb-server.ctl"),
		"--log-file="+filepath.Join(c.Dir, "ovsdb-server.log"),
		db)
	if err := waitSocket(c.dbSocket()); err != nil {
		t.Fatalf("ovntest: chassis %s: ovsdb-server: %v (logs in %s)", name, err, c.Dir)
	}
	c.VSCtl(t, "--no-wait", "init")

	c.startVSwitchd(t)
	// Without --no-wait ovs-vsctl returns only once ovs-vswitchd has built
	// the bridge. fail-mode=secure keeps br-int from flooding like a plain
	// learning switch before ovn-controller installs its flows.
	c.VSCtl(t, "--may-exist", "add-br", "br-int", "--",
		"set", "Bridge", "br-int", "datapath_type=netdev", "fail-mode=secure",
		"other-config:disable-in-band=true")
	if opts.Underlay.IsValid() {
		c.addUnderlay(t, opts.Underlay)
		c.underlay = opts.Underlay
	}
	c.VSCtl(t, "set", "Open_vSwitch", ".",
		"external_ids:system-id="+name,
		"external_ids:ovn-remote="+e.SB(),
		"external_ids:ovn-encap-type=geneve",
		"external_ids:ovn-encap-ip="+opts.EncapIP,
		// ovn-controller would otherwise reset br-int to the kernel
		// datapath, which needs the openvswitch module.
		"external_ids:ovn-bridge-datapath-type=netdev")

	c.startController(t)
	err := ovnhost.Poll(t.Context(), convergeTimeout, "chassis "+name+" in SB", func() (bool, error) {
		out, err := e.Ctl(t.Context(), "ovn-sbctl", "--db="+e.SB(), "--bare", "--columns=name", "find", "Chassis", "name="+name)
		return strings.TrimSpace(out) == name, err
	})
	if err != nil {
		t.Fatalf("ovntest: %v (logs in %s)", err, c.Dir)
	}
	return c
}

func (c *Chassis) dbSocket() string { return filepath.Join(c.Dir, "db.sock") }

// startVSwitchd runs ovs-vswitchd inside the chassis namespace. Stopping it
// with `exit --cleanup` makes it delete its datapath and tap devices
// (ovs-netdev, br-int) rather than leave them for the next run.
func (c *Chassis) startVSwitchd(t testing.TB) {
	t.Helper()
	ctl := filepath.Join(c.Dir, "ovs-vswitchd.ctl")
	stop := c.daemon(t, "ovs-vswitchd", c.NetNS, "ovs-vswitchd",
		"--pidfile="+filepath.Join(c.Dir, "ovs-vswitchd.pid"),
		"--unixctl="+ctl,
		"--log-file="+filepath.Join(c.Dir, "ovs-vswitchd.log"),
		"unix:"+c.dbSocket())
	stop.ctl = []string{"ovs-appctl", "-t", ctl, "exit", "--cleanup"}
	if err := waitSocket(ctl); err != nil {
		t.Fatalf("ovntest: chassis %s: ovs-vswitchd: %v (logs in %s)", c.Name, err, c.Dir)
	}
}

// startController runs ovn-controller for the chassis. It takes no
// --unixctl: its control socket is OVN_RUNDIR/ovn-controller.<pid>.ctl.
func (c *Chassis) startController(t testing.TB) {
	t.Helper()
	stop := c.daemon(t, "ovn-controller", c.NetNS, "ovn-controller",
		"--pidfile="+filepath.Join(c.Dir, "ovn-controller.pid"),
		"--log-file="+filepath.Join(c.Dir, "ovn-controller.log"),
		"unix:"+c.dbSocket())
	// A plain `exit` (no --restart) removes the chassis from SB and its
	// patch ports from br-int before the process ends.
	ctl := filepath.Join(c.Dir, fmt.Sprintf("ovn-controller.%d.ctl", stop.cmd.Process.Pid))
	stop.ctl = []string{"ovn-appctl", "-t", ctl, "exit"}
}

// VSCtl runs ovs-vsctl against the chassis's database and returns its
// output; it fails t on error.
func (c *Chassis) VSCtl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := c.ctl(t.Context(), "ovs-vsctl", append([]string{"--db=unix:" + c.dbSocket(), "--timeout=10"}, args...)...)
	if err != nil {
		t.Fatalf("ovntest: chassis %s: %v", c.Name, err)
	}
	return out
}

// ctl runs a tool with the chassis's run directories, so that appctl-style
// tools find its daemons and not another chassis's.
func (c *Chassis) ctl(ctx context.Context, prog string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = environFor(c.Dir)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("%s %s: %w: %s", prog, strings.Join(args, " "), err, ee.Stderr)
		}
		return "", fmt.Errorf("%s: %w", prog, err)
	}
	return string(out), nil
}

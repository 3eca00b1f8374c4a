package ovnhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ChassisConfig describes one OVN chassis.
type ChassisConfig struct {
	// Name is the chassis name in SB (Open_vSwitch external_ids:system-id).
	Name string
	// NetNS is the named network namespace ovs-vswitchd runs in: br-int,
	// the datapath's tap devices and the ports it binds live there. Empty
	// means the caller's namespace.
	NetNS string
	// Dir is the run directory: conf.db, sockets, pid files and logs
	// (OVS_RUNDIR and OVN_RUNDIR of every daemon). Keep it short: unix
	// socket paths are limited to 107 bytes.
	Dir string
	// SBRemote is the southbound database ("unix:/path", "tcp:IP:PORT").
	// ovsdb-server and ovn-controller run in the caller's namespace, so a
	// TCP remote is dialled from there.
	SBRemote string
	// EncapIP is the Geneve tunnel endpoint (ovn-encap-ip): an address in
	// NetNS, on an OVS bridge of this chassis (the userspace datapath sends
	// tunnelled packets only out of its own bridges).
	EncapIP string
	// Tag marks the chassis's processes (EnvTag) for TaggedProcs.
	Tag string
}

// Chassis is a running (or adopted) chassis.
type Chassis struct {
	cfg ChassisConfig
}

var chassisDaemons = func(cfg ChassisConfig) []daemon {
	db := "unix:" + filepath.Join(cfg.Dir, "db.sock")
	return []daemon{
		{name: "ovsdb-server", prog: "ovsdb-server", unixctl: true, exit: []string{"exit"},
			args: []string{"--remote=punix:" + filepath.Join(cfg.Dir, "db.sock"), filepath.Join(cfg.Dir, "conf.db")}},
		// `exit --cleanup` makes ovs-vswitchd delete its datapath and tap
		// devices rather than leave them in the namespace.
		{name: "ovs-vswitchd", prog: "ovs-vswitchd", netns: cfg.NetNS, unixctl: true,
			exit: []string{"exit", "--cleanup"}, args: []string{db}},
		// A plain `exit` removes the chassis from SB and its patch ports.
		{name: "ovn-controller", prog: "ovn-controller", exit: []string{"exit"}, args: []string{db}},
	}
}

// EnsureChassis starts the chassis's daemons, adopting those still running
// from an earlier start (their pid files name them) and restarting the
// dead ones, configures it (br-int with the netdev datapath, Geneve
// encapsulation, the SB remote) and returns once ovn-controller has
// registered the chassis in SB.
func EnsureChassis(ctx context.Context, cfg ChassisConfig) (*Chassis, error) {
	if cfg.Name == "" || cfg.Dir == "" || cfg.SBRemote == "" || cfg.EncapIP == "" {
		return nil, errors.New("ovnhost: chassis needs Name, Dir, SBRemote and EncapIP")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, err
	}
	cfg.Dir = dir
	if err := checkSockDir(dir); err != nil {
		return nil, fmt.Errorf("ovnhost: chassis %s: %w", cfg.Name, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("ovnhost: chassis %s: %w", cfg.Name, err)
	}
	c := &Chassis{cfg: cfg}
	if err := c.start(ctx); err != nil {
		return nil, fmt.Errorf("ovnhost: chassis %s: %w", cfg.Name, err)
	}
	return c, nil
}

func (c *Chassis) start(ctx context.Context) error {
	ds := chassisDaemons(c.cfg)
	if err := ensureDB(ctx, filepath.Join(c.cfg.Dir, "conf.db"), VSwitchSchema); err != nil {
		return err
	}
	if _, _, err := ds[0].start(ctx, c.cfg.Dir, c.cfg.Tag); err != nil {
		return err
	}
	if err := waitSocket(ctx, c.DBSocket()); err != nil {
		return err
	}
	// Configured before ovs-vswitchd and ovn-controller (re)start, with
	// --no-wait: they read it as they come up.
	_, err := c.VSCtl(ctx, "--no-wait", "--", "init", "--",
		"set", "Open_vSwitch", ".",
		"external_ids:system-id="+c.cfg.Name,
		"external_ids:hostname="+c.cfg.Name,
		"external_ids:ovn-remote="+c.cfg.SBRemote,
		"external_ids:ovn-encap-type=geneve",
		"external_ids:ovn-encap-ip="+c.cfg.EncapIP,
		// ovn-controller would otherwise reset br-int to the kernel
		// datapath, which needs the openvswitch module.
		"external_ids:ovn-bridge-datapath-type=netdev", "--",
		// fail-mode=secure keeps br-int from flooding like a learning
		// switch before ovn-controller installs its flows.
		"--may-exist", "add-br", "br-int", "--",
		"set", "Bridge", "br-int", "datapath_type=netdev", "fail-mode=secure",
		"other-config:disable-in-band=true")
	if err != nil {
		return err
	}
	for _, d := range ds[1:] {
		if _, _, err := d.start(ctx, c.cfg.Dir, c.cfg.Tag); err != nil {
			return err
		}
	}
	return Poll(ctx, convergeTimeout, "chassis "+c.cfg.Name+" in SB", func() (bool, error) {
		out, err := run(ctx, c.cfg.Dir, c.cfg.Tag, "ovn-sbctl", "--db="+c.cfg.SBRemote, "--timeout=5",
			"--bare", "--columns=name", "find", "Chassis", "name="+c.cfg.Name)
		return strings.TrimSpace(out) == c.cfg.Name, err
	})
}

// Config returns the chassis's configuration (Dir made absolute).
func (c *Chassis) Config() ChassisConfig { return c.cfg }

// DBSocket is the unix socket of the chassis's Open_vSwitch database.
func (c *Chassis) DBSocket() string { return filepath.Join(c.cfg.Dir, "db.sock") }

// VSwitchdCtl is ovs-vswitchd's control socket (for ovs-appctl -t).
func (c *Chassis) VSwitchdCtl() string { return filepath.Join(c.cfg.Dir, "ovs-vswitchd.ctl") }

// VSCtl runs ovs-vsctl against the chassis's database (10 s timeout).
func (c *Chassis) VSCtl(ctx context.Context, args ...string) (string, error) {
	return run(ctx, c.cfg.Dir, c.cfg.Tag, "ovs-vsctl",
		append([]string{"--db=unix:" + c.DBSocket(), "--timeout=10"}, args...)...)
}

// AppCtl runs ovs-appctl against ovs-vswitchd (tnl/arp/set, dpctl/…).
func (c *Chassis) AppCtl(ctx context.Context, args ...string) (string, error) {
	return run(ctx, c.cfg.Dir, c.cfg.Tag, "ovs-appctl", append([]string{"-t", c.VSwitchdCtl()}, args...)...)
}

// Pids returns the pids of the chassis's daemons that run, by daemon name
// (ovsdb-server, ovs-vswitchd, ovn-controller).
func (c *Chassis) Pids() map[string]int {
	return ChassisPids(c.cfg.Dir)
}

// ChassisPids is Chassis.Pids for the run directory dir, without a Chassis.
func ChassisPids(dir string) map[string]int {
	out := map[string]int{}
	for _, d := range chassisDaemons(ChassisConfig{Dir: dir}) {
		if pid := d.readPid(dir); pid > 0 {
			out[d.name] = pid
		}
	}
	return out
}

// Stop stops the chassis: ovn-controller leaves SB, ovs-vswitchd deletes
// its bridges' datapath devices, ovsdb-server exits. The run directory
// (with conf.db) stays. Stopping a stopped chassis is fine.
func (c *Chassis) Stop(ctx context.Context) error {
	return StopChassis(ctx, c.cfg.Dir, c.cfg.Tag)
}

// StopChassis is Chassis.Stop for the run directory dir, without a Chassis
// (for a chassis whose configuration is lost).
func StopChassis(ctx context.Context, dir, tag string) error {
	ds := chassisDaemons(ChassisConfig{Dir: dir})
	var errs []error
	for _, i := range []int{2, 1, 0} {
		errs = append(errs, ds[i].stop(ctx, dir, tag))
	}
	return errors.Join(errs...)
}

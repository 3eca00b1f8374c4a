package ovnhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Central is an OVN control plane: NB and SB ovsdb-servers and ovn-northd,
// all with unix sockets in one run directory.
type Central struct {
	// Dir holds databases, sockets, pid files and logs.
	Dir string
	// NB and SB are the database remotes ("unix:/dir/nb.sock").
	NB, SB string

	tag string
}

var centralDaemons = func(dir string) []daemon {
	return []daemon{
		{name: "nb", prog: "ovsdb-server", unixctl: true, exit: []string{"exit"},
			args: []string{"--remote=punix:" + filepath.Join(dir, "nb.sock"), filepath.Join(dir, "nb.db")}},
		{name: "sb", prog: "ovsdb-server", unixctl: true, exit: []string{"exit"},
			args: []string{"--remote=punix:" + filepath.Join(dir, "sb.sock"), filepath.Join(dir, "sb.db")}},
		{name: "northd", prog: "ovn-northd", unixctl: true, exit: []string{"exit"},
			args: []string{"--ovnnb-db=unix:" + filepath.Join(dir, "nb.sock"), "--ovnsb-db=unix:" + filepath.Join(dir, "sb.sock")}},
	}
}

// StartCentral starts (or adopts, when they still run from an earlier
// start) the NB and SB databases and ovn-northd in dir, creating the
// databases when missing, and returns once both databases accept
// connections. tag marks the processes (EnvTag).
func StartCentral(ctx context.Context, dir, tag string) (*Central, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := checkSockDir(dir); err != nil {
		return nil, fmt.Errorf("ovnhost: central: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("ovnhost: central: %w", err)
	}
	c := &Central{Dir: dir, NB: "unix:" + filepath.Join(dir, "nb.sock"), SB: "unix:" + filepath.Join(dir, "sb.sock"), tag: tag}
	ds := centralDaemons(dir)
	for i, schema := range []string{NBSchema, SBSchema} {
		if err := ensureDB(ctx, filepath.Join(dir, ds[i].name+".db"), schema); err != nil {
			return nil, fmt.Errorf("ovnhost: central: %w", err)
		}
	}
	for _, d := range ds {
		if _, _, err := d.start(ctx, dir, tag); err != nil {
			return nil, fmt.Errorf("ovnhost: central: %w", errors.Join(err, c.Stop(ctx)))
		}
	}
	for _, sock := range []string{"nb.sock", "sb.sock"} {
		if err := waitSocket(ctx, filepath.Join(dir, sock)); err != nil {
			return nil, fmt.Errorf("ovnhost: central: %w", errors.Join(err, c.Stop(ctx)))
		}
	}
	return c, nil
}

// Ctl runs an OVN/OVS tool (ovn-nbctl, ovn-sbctl…) with the central's run
// directory and returns its standard output.
func (c *Central) Ctl(ctx context.Context, prog string, args ...string) (string, error) {
	return run(ctx, c.Dir, c.tag, prog, args...)
}

// Pids returns the pids of the central's daemons that run, by name (nb,
// sb, northd).
func (c *Central) Pids() map[string]int {
	out := map[string]int{}
	for _, d := range centralDaemons(c.Dir) {
		if pid := d.readPid(c.Dir); pid > 0 {
			out[d.name] = pid
		}
	}
	return out
}

// Stop stops ovn-northd and both databases; their files stay in Dir.
func (c *Central) Stop(ctx context.Context) error {
	ds := centralDaemons(c.Dir)
	var errs []error
	for _, i := range []int{2, 1, 0} {
		errs = append(errs, ds[i].stop(ctx, c.Dir, c.tag))
	}
	return errors.Join(errs...)
}

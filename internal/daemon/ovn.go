package daemon

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/stitchnfv/stitch/internal/config"
	"github.com/stitchnfv/stitch/internal/ovnhost"
	"github.com/stitchnfv/stitch/sfc/ovn"
	"github.com/stitchnfv/stitch/vim/local"
)

// startOVN connects to the OVN central, starting it first when it is
// embedded, and returns the southbound remote for the sites' chassis.
// Like the chassis and the instances, an embedded central outlives the
// daemon (the data plane keeps its flows across a restart, and the next
// start adopts it); Purge stops it.
func (d *Daemon) startOVN(ctx context.Context, cfg config.Config) (string, error) {
	nb, sb := cfg.Network.OVN.Northbound, cfg.Network.OVN.Southbound
	if cfg.Network.OVN.Embedded() {
		c, err := ovnhost.StartCentral(ctx, centralDir(cfg), centralTag(cfg.VIM.Prefix))
		if err != nil {
			return "", fmt.Errorf("embedded OVN central: %w", err)
		}
		d.Central = c
		nb, sb = c.NB, c.SB
	}
	client, err := ovn.Dial(ctx, nb, d.log.With("part", "ovn"))
	if err != nil {
		return "", fmt.Errorf("OVN northbound %s: %w", nb, err)
	}
	d.OVN = client
	return sb, nil
}

// centralDir is short on purpose: unix socket paths are limited to 107
// bytes.
func centralDir(cfg config.Config) string { return filepath.Join(cfg.StateDir, "ovn") }

func centralTag(prefix string) string { return "stitchd:" + prefix + ":" }

// Purge removes everything a daemon with this configuration may have left
// on the host, with or without its records: the VIM's namespaces, links,
// processes and chassis, and an embedded OVN central.
func Purge(ctx context.Context, cfg config.Config) error {
	err := local.Purge(ctx, cfg.VIM.Prefix)
	ovnhost.KillTagged(centralTag(cfg.VIM.Prefix))
	return err
}

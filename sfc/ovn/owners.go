package ovn

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/stitchnfv/stitch/sfc/nbdb"
)

// NSInstances lists, sorted, the NS instances that own rows in NB, so that
// an orchestrator can remove what belongs to none of its records. Only
// root rows are read (switches, routers, port groups, load balancers):
// every other row stitch writes hangs off one of them.
func (c *Client) NSInstances(ctx context.Context) ([]string, error) {
	owners := map[string]bool{}
	add := func(ids map[string]string) {
		if ids[KeyOwner] == Owner && ids[KeyNS] != "" {
			owners[ids[KeyNS]] = true
		}
	}
	var switches []nbdb.LogicalSwitch
	var routers []nbdb.LogicalRouter
	var groups []nbdb.PortGroup
	var lbs []nbdb.LoadBalancer
	for _, l := range []struct {
		what string
		rows any
	}{{"logical switches", &switches}, {"logical routers", &routers}, {"port groups", &groups}, {"load balancers", &lbs}} {
		if err := c.ovs.List(ctx, l.rows); err != nil {
			return nil, fmt.Errorf("list %s: %w", l.what, err)
		}
	}
	for _, r := range switches {
		add(r.ExternalIDs)
	}
	for _, r := range routers {
		add(r.ExternalIDs)
	}
	for _, r := range groups {
		add(r.ExternalIDs)
	}
	for _, r := range lbs {
		add(r.ExternalIDs)
	}
	return slices.Sorted(maps.Keys(owners)), nil
}

package ovn

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ovn-org/libovsdb/model"

	"github.com/stitchnfv/stitch/sfc/nbdb"
)

// actual is the NB rows one NS instance owns, read from the cache. Rows are
// matched to desired ones by their stitch.object tag; should two rows carry
// the same identity (never written by stitch, but possible after manual
// edits), the one with the lowest UUID is kept and the other is removed.
type actual struct {
	switches map[string]*nbdb.LogicalSwitch
	ports    map[string]*nbdb.LogicalSwitchPort
	groups   map[string]*nbdb.PortGroup
	acls     map[string]*nbdb.ACL
	routers  map[string]*nbdb.LogicalRouter
	rports   map[string]*nbdb.LogicalRouterPort
	policies map[string]*nbdb.LogicalRouterPolicy
	lbs      map[string]*nbdb.LoadBalancer

	allSwitches []nbdb.LogicalSwitch
	allPorts    []nbdb.LogicalSwitchPort
	allGroups   []nbdb.PortGroup
	allACLs     []nbdb.ACL
	allRouters  []nbdb.LogicalRouter
	allRPorts   []nbdb.LogicalRouterPort
	allPolicies []nbdb.LogicalRouterPolicy
	allLBs      []nbdb.LoadBalancer
}

func (c *Client) actual(ctx context.Context, n namer) (actual, error) {
	var a actual
	tag := map[string]string{KeyNS: n.nsID}
	if err := list(ctx, c, n, &nbdb.LogicalSwitch{ExternalIDs: tag}, &a.allSwitches, func(r nbdb.LogicalSwitch) map[string]string { return r.ExternalIDs }); err != nil {
		return a, fmt.Errorf("list logical switches: %w", err)
	}
	if err := list(ctx, c, n, &nbdb.LogicalSwitchPort{ExternalIDs: tag}, &a.allPorts, func(r nbdb.LogicalSwitchPort) map[string]string { return r.ExternalIDs }); err != nil {
		return a, fmt.Errorf("list logical switch ports: %w", err)
	}
	if err := list(ctx, c, n, &nbdb.PortGroup{ExternalIDs: tag}, &a.allGroups, func(r nbdb.PortGroup) map[string]string { return r.ExternalIDs }); err != nil {
		return a, fmt.Errorf("list port groups: %w", err)
	}
	if err := list(ctx, c, n, &nbdb.ACL{ExternalIDs: tag}, &a.allACLs, func(r nbdb.ACL) map[string]string { return r.ExternalIDs }); err != nil {
		return a, fmt.Errorf("list ACLs: %w", err)
	}
	if err := list(ctx, c, n, &nbdb.LogicalRouter{ExternalIDs: tag}, &a.allRouters, func(r nbdb.LogicalRouter) map[string]string { return r.ExternalIDs }); err != nil {
		return a, fmt.Errorf("list logical routers: %w", err)
	}
	if err := list(ctx, c, n, &nbdb.LogicalRouterPort{ExternalIDs: tag}, &a.allRPorts, func(r nbdb.LogicalRouterPort) map[string]string { return r.ExternalIDs }); err != nil {
		return a, fmt.Errorf("list logical router ports: %w", err)
	}
	if err := list(ctx, c, n, &nbdb.LogicalRouterPolicy{ExternalIDs: tag}, &a.allPolicies, func(r nbdb.LogicalRouterPolicy) map[string]string { return r.ExternalIDs }); err != nil {
		return a, fmt.Errorf("list logical router policies: %w", err)
	}
	if err := list(ctx, c, n, &nbdb.LoadBalancer{ExternalIDs: tag}, &a.allLBs, func(r nbdb.LoadBalancer) map[string]string { return r.ExternalIDs }); err != nil {
		return a, fmt.Errorf("list load balancers: %w", err)
	}
	a.lbs = index(a.allLBs, func(r *nbdb.LoadBalancer) (string, string) { return r.UUID, r.ExternalIDs[KeyObject] })
	a.routers = index(a.allRouters, func(r *nbdb.LogicalRouter) (string, string) { return r.UUID, r.ExternalIDs[KeyObject] })
	a.rports = index(a.allRPorts, func(r *nbdb.LogicalRouterPort) (string, string) { return r.UUID, r.ExternalIDs[KeyObject] })
	a.policies = index(a.allPolicies, func(r *nbdb.LogicalRouterPolicy) (string, string) { return r.UUID, r.ExternalIDs[KeyObject] })
	a.switches = index(a.allSwitches, func(r *nbdb.LogicalSwitch) (string, string) { return r.UUID, r.ExternalIDs[KeyObject] })
	a.ports = index(a.allPorts, func(r *nbdb.LogicalSwitchPort) (string, string) { return r.UUID, r.ExternalIDs[KeyObject] })
	a.groups = index(a.allGroups, func(r *nbdb.PortGroup) (string, string) { return r.UUID, r.ExternalIDs[KeyObject] })
	a.acls = index(a.allACLs, func(r *nbdb.ACL) (string, string) { return r.UUID, r.ExternalIDs[KeyObject] })
	return a, nil
}

// list reads the rows tagged with the NS through the client index, then
// keeps those that also carry the owner tag.
func list[T any](ctx context.Context, c *Client, n namer, byNS model.Model, rows *[]T, ids func(T) map[string]string) error {
	var all []T
	if err := c.ovs.Where(byNS).List(ctx, &all); err != nil {
		return err
	}
	for _, r := range all {
		if n.owns(ids(r)) {
			*rows = append(*rows, r)
		}
	}
	return nil
}

// index sorts rows by UUID (for a deterministic pick among duplicates) and
// maps each identity to its first row.
func index[T any](rows []T, id func(*T) (uuid, key string)) map[string]*T {
	slices.SortFunc(rows, func(x, y T) int {
		ux, _ := id(&x)
		uy, _ := id(&y)
		return strings.Compare(ux, uy)
	})
	m := make(map[string]*T, len(rows))
	for i := range rows {
		if _, key := id(&rows[i]); key != "" && m[key] == nil {
			m[key] = &rows[i]
		}
	}
	return m
}

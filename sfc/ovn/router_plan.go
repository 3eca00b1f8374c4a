package ovn

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/stitchnfv/stitch/sfc/nbdb"
)

// planRouters adds the routers' part of the transaction, with the same
// rules as switches and groups: router ports and policies (non-root rows)
// are created before the router referencing them and removed by dropping
// the reference; only references to rows we own are ever dropped.
func (c *Client) planRouters(p *plan, d desired, a actual, add func([]ovsdb.Operation, error) error) error {
	owned := map[string]bool{}
	for _, r := range a.allRPorts {
		owned[r.UUID] = true
	}
	for _, r := range a.allPolicies {
		owned[r.UUID] = true
	}
	keep := map[string]bool{}
	for i, w := range d.routers {
		got := a.routers[w.key]
		var attached map[string]bool
		if got != nil {
			keep[got.UUID] = true
			attached = setOf(slices.Concat(got.Ports, got.Policies))
		}
		ports, err := c.planRouterPorts(p, i, w, a, attached, keep, add)
		if err != nil {
			return err
		}
		policies, err := c.planPolicies(p, i, w, a, attached, keep, add)
		if err != nil {
			return err
		}
		if got == nil {
			row := w.row
			row.UUID, row.Ports, row.Policies = fmt.Sprintf("lr%d", i), ports, policies
			row.LoadBalancer = p.lbRefs(nil, w.lbKeys).ins
			if err := add(c.ovs.Create(&row)); err != nil {
				return fmt.Errorf("create router %s: %w", row.Name, err)
			}
			p.ch.Created = append(p.ch.Created, "Logical_Router "+row.Name)
			continue
		}
		row := nbdb.LogicalRouter{UUID: got.UUID, Name: w.row.Name, ExternalIDs: merged(got.ExternalIDs, w.row.ExternalIDs)}
		changed := false
		if got.Name != w.row.Name || !hasAll(got.ExternalIDs, w.row.ExternalIDs) {
			if err := add(c.ovs.Where(&row).Update(&row, &row.Name, &row.ExternalIDs)); err != nil {
				return fmt.Errorf("update router %s: %w", row.Name, err)
			}
			changed = true
		}
		pr, polr := diffRefs(got.Ports, ports, owned), diffRefs(got.Policies, policies, owned)
		ms := slices.Concat(mutations(&row.Ports, pr), mutations(&row.Policies, polr),
			mutations(&row.LoadBalancer, p.lbRefs(got.LoadBalancer, w.lbKeys)))
		if len(ms) > 0 {
			if err := add(c.ovs.Where(&row).Mutate(&row, ms...)); err != nil {
				return fmt.Errorf("mutate router %s: %w", row.Name, err)
			}
			changed = true
		}
		if changed {
			p.ch.Updated = append(p.ch.Updated, "Logical_Router "+row.Name)
		}
	}
	for _, r := range a.allRPorts {
		if !keep[r.UUID] {
			p.ch.Deleted = append(p.ch.Deleted, "Logical_Router_Port "+r.Name)
		}
	}
	for _, r := range a.allPolicies {
		if !keep[r.UUID] {
			p.ch.Deleted = append(p.ch.Deleted, "Logical_Router_Policy "+policyName(r))
		}
	}
	for _, r := range a.allRouters {
		if keep[r.UUID] {
			continue
		}
		if err := add(c.ovs.Where(&nbdb.LogicalRouter{UUID: r.UUID}).Delete()); err != nil {
			return fmt.Errorf("delete router %s: %w", r.Name, err)
		}
		p.ch.Deleted = append(p.ch.Deleted, "Logical_Router "+r.Name)
	}
	return nil
}

// planRouterPorts creates or updates the router ports of w and returns the
// UUIDs (named for new rows) the router must reference.
func (c *Client) planRouterPorts(p *plan, i int, w wantRouter, a actual, attached, keep map[string]bool, add func([]ovsdb.Operation, error) error) ([]string, error) {
	var uuids []string
	for j, wp := range w.ports {
		got := a.rports[wp.key]
		if got == nil || !attached[got.UUID] {
			row := wp.row
			row.UUID = fmt.Sprintf("lrp%d_%d", i, j)
			if err := add(c.ovs.Create(&row)); err != nil {
				return nil, fmt.Errorf("create router port %s: %w", row.Name, err)
			}
			p.ch.Created = append(p.ch.Created, "Logical_Router_Port "+row.Name)
			uuids = append(uuids, row.UUID)
			continue
		}
		keep[got.UUID] = true
		uuids = append(uuids, got.UUID)
		if got.Name == wp.row.Name && got.MAC == wp.row.MAC && sameSet(got.Networks, wp.row.Networks) &&
			hasAll(got.ExternalIDs, wp.row.ExternalIDs) {
			continue
		}
		row := nbdb.LogicalRouterPort{UUID: got.UUID, Name: wp.row.Name, MAC: wp.row.MAC, Networks: wp.row.Networks,
			ExternalIDs: merged(got.ExternalIDs, wp.row.ExternalIDs)}
		if err := add(c.ovs.Where(&row).Update(&row, &row.Name, &row.MAC, &row.Networks, &row.ExternalIDs)); err != nil {
			return nil, fmt.Errorf("update router port %s: %w", row.Name, err)
		}
		p.ch.Updated = append(p.ch.Updated, "Logical_Router_Port "+row.Name)
	}
	return uuids, nil
}

// planPolicies is planRouterPorts for reroute policies. A policy keeps its
// row when only its next hops change (scale-out, heal), so the router's
// other flows are not recomputed around a delete and insert.
func (c *Client) planPolicies(p *plan, i int, w wantRouter, a actual, attached, keep map[string]bool, add func([]ovsdb.Operation, error) error) ([]string, error) {
	var uuids []string
	for j, wp := range w.policies {
		got := a.policies[wp.key]
		if got == nil || !attached[got.UUID] {
			row := wp.row
			row.UUID = fmt.Sprintf("lrpol%d_%d", i, j)
			if err := add(c.ovs.Create(&row)); err != nil {
				return nil, fmt.Errorf("create policy %s: %w", policyName(row), err)
			}
			p.ch.Created = append(p.ch.Created, "Logical_Router_Policy "+policyName(row))
			uuids = append(uuids, row.UUID)
			continue
		}
		keep[got.UUID] = true
		uuids = append(uuids, got.UUID)
		if got.Action == wp.row.Action && sameSet(got.Nexthops, wp.row.Nexthops) && hasAll(got.ExternalIDs, wp.row.ExternalIDs) {
			continue
		}
		row := nbdb.LogicalRouterPolicy{UUID: got.UUID, Action: wp.row.Action, Nexthops: wp.row.Nexthops,
			ExternalIDs: merged(got.ExternalIDs, wp.row.ExternalIDs)}
		if err := add(c.ovs.Where(&row).Update(&row, &row.Action, &row.Nexthops, &row.ExternalIDs)); err != nil {
			return nil, fmt.Errorf("update policy %s: %w", policyName(wp.row), err)
		}
		p.ch.Updated = append(p.ch.Updated, "Logical_Router_Policy "+policyName(wp.row))
	}
	return uuids, nil
}

// policyName names a policy in Changes: policies have no name column, so
// its identity without the "policy/" kind, i.e. router/priority/match.
func policyName(r nbdb.LogicalRouterPolicy) string {
	return strings.TrimPrefix(r.ExternalIDs[KeyObject], "policy/")
}

// sameSet compares OVSDB set columns, which come back in any order.
func sameSet(a, b []string) bool {
	return len(a) == len(b) && len(diffRefs(a, b, setOf(a)).del) == 0
}

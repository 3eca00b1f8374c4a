package ovn

import (
	"fmt"
	"slices"

	"github.com/ovn-org/libovsdb/model"
	"github.com/ovn-org/libovsdb/ovsdb"

	"github.com/stitchnfv/stitch/sfc/nbdb"
)

// plan is the single transaction that moves NB from actual to desired.
type plan struct {
	ops []ovsdb.Operation
	ch  Changes

	// Load balancers: UUID (named for new rows) by identity, the UUIDs of
	// those this NS owns, and of those it keeps.
	lbUUID          map[string]string
	ownedLB, keepLB map[string]bool
}

// refs collects mutations of one reference column: OVSDB sets are mutated
// rather than overwritten so that rows another writer attached to our
// switches or groups stay attached.
type refs struct{ ins, del []string }

func (r *refs) empty() bool { return len(r.ins) == 0 && len(r.del) == 0 }

func mutations(field any, r *refs) []model.Mutation {
	var ms []model.Mutation
	if len(r.del) > 0 {
		ms = append(ms, model.Mutation{Field: field, Mutator: ovsdb.MutateOperationDelete, Value: r.del})
	}
	if len(r.ins) > 0 {
		ms = append(ms, model.Mutation{Field: field, Mutator: ovsdb.MutateOperationInsert, Value: r.ins})
	}
	return ms
}

// plan diffs d against a. Children are created before the parents that
// reference them by named UUID, and non-root rows (ports, ACLs) are never
// deleted directly: dropping the last reference lets OVSDB collect them,
// which keeps the transaction free of referential-integrity failures.
func (c *Client) plan(n namer, d desired, a actual) (plan, error) {
	var p plan
	add := func(ops []ovsdb.Operation, err error) error {
		if err != nil {
			return err
		}
		p.ops = append(p.ops, ops...)
		return nil
	}

	// Load balancers first: switches and routers refer to them.
	if err := c.planLBs(&p, d, a, add); err != nil {
		return p, err
	}

	// Switches first only to learn their UUIDs (named for new ones).
	swUUID := map[string]string{}
	swLBs := map[string][]string{} // switch UUID -> wanted load balancer keys
	keepSw := map[string]bool{}
	newSw := map[string]*nbdb.LogicalSwitch{}
	var swUpdates []ovsdb.Operation
	for i, w := range d.switches {
		got := a.switches[w.key]
		if got == nil {
			row := w.row
			row.UUID = fmt.Sprintf("ls%d", i)
			swUUID[w.key], newSw[row.UUID] = row.UUID, &row
			swLBs[row.UUID] = w.lbKeys
			continue
		}
		swUUID[w.key], keepSw[got.UUID] = got.UUID, true
		swLBs[got.UUID] = w.lbKeys
		if got.Name != w.row.Name || !hasAll(got.OtherConfig, w.row.OtherConfig) || !hasAll(got.ExternalIDs, w.row.ExternalIDs) {
			row := nbdb.LogicalSwitch{UUID: got.UUID, Name: w.row.Name,
				OtherConfig: merged(got.OtherConfig, w.row.OtherConfig), ExternalIDs: merged(got.ExternalIDs, w.row.ExternalIDs)}
			ops, err := c.ovs.Where(&row).Update(&row, &row.Name, &row.OtherConfig, &row.ExternalIDs)
			if err != nil {
				return p, fmt.Errorf("update switch %s: %w", row.Name, err)
			}
			swUpdates = append(swUpdates, ops...)
			p.ch.Updated = append(p.ch.Updated, "Logical_Switch "+row.Name)
		}
	}

	// Ports: created or updated in place; moved between our switches by
	// mutating both switches' port sets.
	parent := map[string]string{}
	for _, sw := range a.allSwitches {
		for _, u := range sw.Ports {
			parent[u] = sw.UUID
		}
	}
	swRefs := map[string]*refs{}
	ref := func(m map[string]*refs, u string) *refs {
		if m[u] == nil {
			m[u] = &refs{}
		}
		return m[u]
	}
	portUUID := map[string]string{}
	keepPort := map[string]bool{}
	for i, w := range d.ports {
		target := swUUID[w.switchKey]
		got := a.ports[w.key]
		if got == nil {
			row := w.row
			row.UUID = fmt.Sprintf("lsp%d", i)
			portUUID[w.key] = row.UUID
			if err := add(c.ovs.Create(&row)); err != nil {
				return p, fmt.Errorf("create port %s: %w", row.Name, err)
			}
			p.ch.Created = append(p.ch.Created, "Logical_Switch_Port "+row.Name)
			ref(swRefs, target).ins = append(ref(swRefs, target).ins, row.UUID)
			continue
		}
		portUUID[w.key], keepPort[got.UUID] = got.UUID, true
		if got.Name != w.row.Name || got.Type != w.row.Type || !slices.Equal(got.Addresses, w.row.Addresses) ||
			!slices.Equal(got.PortSecurity, w.row.PortSecurity) || !hasAll(got.Options, w.row.Options) ||
			hasAny(got.Options, w.clearOptions) || !hasAll(got.ExternalIDs, w.row.ExternalIDs) {
			row := nbdb.LogicalSwitchPort{UUID: got.UUID, Name: w.row.Name, Type: w.row.Type, Addresses: w.row.Addresses,
				PortSecurity: w.row.PortSecurity, Options: without(merged(got.Options, w.row.Options), w.clearOptions),
				ExternalIDs: merged(got.ExternalIDs, w.row.ExternalIDs)}
			if err := add(c.ovs.Where(&row).Update(&row, &row.Name, &row.Type, &row.Addresses, &row.PortSecurity,
				&row.Options, &row.ExternalIDs)); err != nil {
				return p, fmt.Errorf("update port %s: %w", row.Name, err)
			}
			p.ch.Updated = append(p.ch.Updated, "Logical_Switch_Port "+row.Name)
		}
		if from := parent[got.UUID]; from != target {
			if keepSw[from] {
				ref(swRefs, from).del = append(ref(swRefs, from).del, got.UUID)
			}
			ref(swRefs, target).ins = append(ref(swRefs, target).ins, got.UUID)
		}
	}
	for _, got := range a.allPorts {
		if keepPort[got.UUID] {
			continue
		}
		p.ch.Deleted = append(p.ch.Deleted, "Logical_Switch_Port "+got.Name)
		// A port on a switch that goes away is collected with it.
		if from := parent[got.UUID]; keepSw[from] {
			ref(swRefs, from).del = append(ref(swRefs, from).del, got.UUID)
		}
	}

	// Now the switches themselves, referencing their (maybe new) ports.
	p.ops = append(p.ops, swUpdates...)
	for _, u := range sortedKeys(newSw) {
		row := newSw[u]
		if r := swRefs[u]; r != nil {
			row.Ports = r.ins
		}
		row.LoadBalancer = p.lbRefs(nil, swLBs[u]).ins
		if err := add(c.ovs.Create(row)); err != nil {
			return p, fmt.Errorf("create switch %s: %w", row.Name, err)
		}
		p.ch.Created = append(p.ch.Created, "Logical_Switch "+row.Name)
	}
	for _, sw := range a.allSwitches {
		if !keepSw[sw.UUID] {
			continue
		}
		row := nbdb.LogicalSwitch{UUID: sw.UUID}
		var ms []model.Mutation
		if r := swRefs[sw.UUID]; r != nil {
			ms = mutations(&row.Ports, r)
		}
		ms = append(ms, mutations(&row.LoadBalancer, p.lbRefs(sw.LoadBalancer, swLBs[sw.UUID]))...)
		if len(ms) == 0 {
			continue
		}
		if err := add(c.ovs.Where(&row).Mutate(&row, ms...)); err != nil {
			return p, fmt.Errorf("mutate switch %s: %w", sw.Name, err)
		}
		p.ch.Updated = append(p.ch.Updated, "Logical_Switch "+sw.Name)
	}

	if err := c.planGroups(&p, d, a, portUUID, add); err != nil {
		return p, err
	}
	if err := c.planRouters(&p, d, a, add); err != nil {
		return p, err
	}

	// Deletions of roots last; their ports and ACLs are collected.
	if err := c.deleteLBs(&p, a, add); err != nil {
		return p, err
	}
	for _, sw := range a.allSwitches {
		if keepSw[sw.UUID] {
			continue
		}
		if err := add(c.ovs.Where(&nbdb.LogicalSwitch{UUID: sw.UUID}).Delete()); err != nil {
			return p, fmt.Errorf("delete switch %s: %w", sw.Name, err)
		}
		p.ch.Deleted = append(p.ch.Deleted, "Logical_Switch "+sw.Name)
	}
	p.ch.sort()
	return p, nil
}

func (c *Client) planGroups(p *plan, d desired, a actual, portUUID map[string]string, add func([]ovsdb.Operation, error) error) error {
	ownedPort := map[string]bool{}
	for _, r := range a.allPorts {
		ownedPort[r.UUID] = true
	}
	ownedACL := map[string]bool{}
	for _, r := range a.allACLs {
		ownedACL[r.UUID] = true
	}
	keepPG := map[string]bool{}
	keepACL := map[string]bool{}
	for i, w := range d.groups {
		got := a.groups[w.key]
		var ports []string
		for _, k := range w.portKeys {
			ports = append(ports, portUUID[k])
		}
		var inGroup map[string]bool
		if got != nil {
			keepPG[got.UUID] = true
			inGroup = setOf(got.ACLs)
		}
		var acls []string
		for j, wa := range w.acls {
			if ga := a.acls[wa.key]; ga != nil && inGroup[ga.UUID] {
				keepACL[ga.UUID] = true
				acls = append(acls, ga.UUID)
				continue
			}
			row := wa.row
			row.UUID = fmt.Sprintf("acl%d_%d", i, j)
			if err := add(c.ovs.Create(&row)); err != nil {
				return fmt.Errorf("create ACL %s: %w", *row.Name, err)
			}
			p.ch.Created = append(p.ch.Created, "ACL "+*row.Name)
			acls = append(acls, row.UUID)
		}
		if got == nil {
			row := w.row
			row.UUID, row.Ports, row.ACLs = fmt.Sprintf("pg%d", i), ports, acls
			if err := add(c.ovs.Create(&row)); err != nil {
				return fmt.Errorf("create port group %s: %w", row.Name, err)
			}
			p.ch.Created = append(p.ch.Created, "Port_Group "+row.Name)
			continue
		}
		row := nbdb.PortGroup{UUID: got.UUID, Name: w.row.Name, ExternalIDs: merged(got.ExternalIDs, w.row.ExternalIDs)}
		changed := false
		if got.Name != w.row.Name || !hasAll(got.ExternalIDs, w.row.ExternalIDs) {
			if err := add(c.ovs.Where(&row).Update(&row, &row.Name, &row.ExternalIDs)); err != nil {
				return fmt.Errorf("update port group %s: %w", row.Name, err)
			}
			changed = true
		}
		// Only members we own are reconciled; others' stay.
		pr, ar := diffRefs(got.Ports, ports, ownedPort), diffRefs(got.ACLs, acls, ownedACL)
		if ms := append(mutations(&row.Ports, pr), mutations(&row.ACLs, ar)...); len(ms) > 0 {
			if err := add(c.ovs.Where(&row).Mutate(&row, ms...)); err != nil {
				return fmt.Errorf("mutate port group %s: %w", row.Name, err)
			}
			changed = true
		}
		if changed {
			p.ch.Updated = append(p.ch.Updated, "Port_Group "+row.Name)
		}
	}
	for _, r := range a.allACLs {
		if !keepACL[r.UUID] {
			p.ch.Deleted = append(p.ch.Deleted, "ACL "+deref(r.Name))
		}
	}
	for _, g := range a.allGroups {
		if keepPG[g.UUID] {
			continue
		}
		if err := add(c.ovs.Where(&nbdb.PortGroup{UUID: g.UUID}).Delete()); err != nil {
			return fmt.Errorf("delete port group %s: %w", g.Name, err)
		}
		p.ch.Deleted = append(p.ch.Deleted, "Port_Group "+g.Name)
	}
	return nil
}

// diffRefs returns the mutation turning the owned part of have into want.
func diffRefs(have, want []string, owned map[string]bool) *refs {
	r := &refs{}
	h, w := setOf(have), setOf(want)
	for _, u := range have {
		if owned[u] && !w[u] {
			r.del = append(r.del, u)
		}
	}
	for _, u := range want {
		if !h[u] {
			r.ins = append(r.ins, u)
		}
	}
	return r
}

func setOf(s []string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, v := range s {
		m[v] = true
	}
	return m
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

package nfvo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/stitchnfv/stitch/descriptors"
	"github.com/stitchnfv/stitch/internal/store"
	"github.com/stitchnfv/stitch/vim"
	"github.com/stitchnfv/stitch/vnfm"
)

// reconcileConstituent makes the VDUs of one vnf-profile run with their
// desired counts, and returns where its critical path (the slowest instance
// of each VDU, one VDU after another) spent its time.
func (o *Orchestrator) reconcileConstituent(ctx context.Context, ns NsInstance, p *plan, profile string, nets map[string]netInfo, r *run) (timing, error) {
	c, err := p.constituent(profile)
	if err != nil {
		return timing{}, err
	}
	var longest timing
	for i := range c.vnfd.VDUs {
		vdu := &c.vnfd.VDUs[i]
		todo, err := o.planInstances(ctx, ns, p, c, vdu, nets, r)
		if err != nil {
			return longest, err
		}
		var wg sync.WaitGroup
		errs := make([]error, len(todo))
		times := make([]timing, len(todo))
		for j, rec := range todo {
			wg.Go(func() { times[j], errs[j] = o.bringUp(ctx, ns, p, c, vdu, rec, nets, r) })
		}
		wg.Wait()
		t := slowest(times)
		longest.vim += t.vim // VDUs come up one after another
		longest.wait += t.wait
		if err := errors.Join(errs...); err != nil {
			return longest, err
		}
	}
	return longest, nil
}

// live reports whether a record counts towards its VDU's desired count.
func live(v Vnfc, replace []string) bool {
	switch v.State {
	case VnfcPending, VnfcStarting, VnfcHealthy:
		return !slices.Contains(replace, v.ID)
	}
	return false
}

// planInstances records the instances a VDU lacks (placed, addressed,
// PENDING) and marks the ones it has too many of as DELETING, in one
// transaction, before anything runs. It returns the records still to bring
// up.
func (o *Orchestrator) planInstances(ctx context.Context, ns NsInstance, p *plan, c constituent, vdu *descriptors.VDU, nets map[string]netInfo, r *run) ([]Vnfc, error) {
	sites, err := o.vnfm.Sites(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing sites: %w", err)
	}
	key := replicaKey(c.profile.ID, vdu.ID)
	want := ns.Desired.Replicas[key]
	inUse := o.sessionsInUse(ctx, ns, c, vdu, want)
	var todo []Vnfc
	var placed []string
	err = o.store.Update(ctx, func(tx store.Tx) error {
		todo, placed = nil, nil
		all, err := listVnfcs(tx, ns.ID)
		if err != nil {
			return err
		}
		var mine []Vnfc
		for _, v := range all {
			if v.Profile == c.profile.ID && v.VDU == vdu.ID && live(v, ns.Desired.Replace) {
				mine = append(mine, v)
			}
		}
		now := o.now()
		if extra := len(mine) - want; extra > 0 {
			gone := victims(mine, extra, inUse)
			for _, v := range gone {
				v.State = VnfcDeleting
				if err := store.PutJSON(tx, bucketVnfc, ns.ID+"/"+v.ID, v); err != nil {
					return err
				}
			}
			mine = slices.DeleteFunc(mine, func(v Vnfc) bool {
				return slices.ContainsFunc(gone, func(g Vnfc) bool { return g.ID == v.ID })
			})
		}
		for _, v := range mine {
			if v.State != VnfcHealthy {
				todo = append(todo, v)
			}
		}
		if want <= len(mine) {
			return nil
		}
		stored, err := getNS(tx, ns.ID)
		if err != nil {
			return err
		}
		if stored.NextIndex == nil {
			stored.NextIndex = map[string]int{}
		}
		loads := siteLoads(sites, p, all)
		used := usedAddresses(all, p)
		for range want - len(mine) {
			v, err := o.newVnfc(ns, p, c, vdu, all, loads, used, nets, r.opID, now, stored.NextIndex[key])
			if err != nil {
				return err
			}
			stored.NextIndex[key] = v.Index + 1
			all = append(all, v)
			if err := store.PutJSON(tx, bucketVnfc, ns.ID+"/"+v.ID, v); err != nil {
				return err
			}
			todo = append(todo, v)
			placed = append(placed, v.ID+" → "+v.Placement)
		}
		return store.PutJSON(tx, bucketNS, stored.ID, stored)
	})
	if err == nil && len(placed) > 0 {
		// New instances find their neighbours in place when they start.
		err = o.refreshBindings(ctx, ns.ID, p)
	}
	for _, msg := range placed {
		o.step(ctx, r.opID, "placed %s", msg)
	}
	return todo, err
}

// victims chooses which instances a scale-in removes, one at a time:
// those not yet healthy first; then, consolidating as MiCADO does, those
// on the site with the fewest of them (so that the site is released);
// then the idlest (fewest sessions in use, when known); then the newest
// (highest index).
func victims(mine []Vnfc, n int, inUse map[string]int) []Vnfc {
	left := slices.Clone(mine)
	perSite := map[string]int{}
	for _, v := range left {
		perSite[v.Site]++
	}
	better := func(a, b Vnfc) bool {
		if ha, hb := a.State == VnfcHealthy, b.State == VnfcHealthy; ha != hb {
			return !ha
		}
		if sa, sb := perSite[a.Site], perSite[b.Site]; sa != sb {
			return sa < sb
		}
		if ua, ub := inUse[a.ID], inUse[b.ID]; ua != ub {
			return ua < ub
		}
		return a.Index > b.Index
	}
	var out []Vnfc
	for range min(n, len(left)) {
		best := 0
		for i := range left {
			if better(left[i], left[best]) {
				best = i
			}
		}
		out = append(out, left[best])
		perSite[left[best].Site]--
		left = slices.Delete(left, best, best+1)
	}
	return out
}

// sessionsInUse asks each healthy instance of a VDU with session slots how
// many it holds, when a scale-in is about to choose among its instances.
// Instances that do not answer count as busy, so they are not preferred.
func (o *Orchestrator) sessionsInUse(ctx context.Context, ns NsInstance, c constituent, vdu *descriptors.VDU, want int) map[string]int {
	if c.vnfd.Slots(c.df.ID, vdu.ID) <= 0 {
		return nil
	}
	var mine []Vnfc
	err := o.store.View(ctx, func(tx store.Tx) error {
		all, err := listVnfcs(tx, ns.ID)
		for _, v := range all {
			if v.Profile == c.profile.ID && v.VDU == vdu.ID && live(v, ns.Desired.Replace) {
				mine = append(mine, v)
			}
		}
		return err
	})
	if err != nil || len(mine) <= want {
		return nil
	}
	out := make(map[string]int, len(mine))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, v := range mine {
		if v.State != VnfcHealthy {
			continue // chosen first anyway
		}
		wg.Go(func() {
			n, err := o.vnfm.SessionsInUse(ctx, v.Site, vdu.HealthCheck, v.Addresses)
			if err != nil {
				n = math.MaxInt
			}
			mu.Lock()
			out[v.ID] = n
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// siteLoads starts placement from the VIM's current usage plus this NS's
// instances that are recorded but not created on the VIM yet. (Another NS's
// are not counted; when that overcommits a site, the VIM refuses the create
// and the record is placed again on retry, see bringUp.)
func siteLoads(sites []vim.Site, p *plan, records []Vnfc) []siteLoad {
	out := make([]siteLoad, len(sites))
	index := map[string]int{}
	for i, s := range sites {
		out[i] = siteLoad{site: s, used: s.Used}
		index[s.Name] = i
	}
	for _, v := range records {
		i, ok := index[v.Site]
		vnfd := p.vnfds[v.VnfdID]
		if v.State != VnfcPending || !ok || vnfd == nil {
			continue
		}
		vcpu, mem := vnfd.Compute(v.VDU)
		out[i].used.VCPU += vcpu
		out[i].used.MemoryMB += mem
		out[i].used.Instances++
	}
	return out
}

func usedAddresses(all []Vnfc, p *plan) map[string]bool {
	used := map[string]bool{}
	for _, v := range all {
		for _, ip := range v.Addresses {
			used[ip] = true
		}
	}
	for _, sap := range p.nsd.Sapds {
		if sap.Address != "" {
			used[sap.Address] = true
		}
	}
	return used
}

// newVnfc places and addresses one new instance.
func (o *Orchestrator) newVnfc(ns NsInstance, p *plan, c constituent, vdu *descriptors.VDU, all []Vnfc, loads []siteLoad, used map[string]bool, nets map[string]netInfo, opID string, now time.Time, index int) (Vnfc, error) {
	vcpu, mem := c.vnfd.Compute(vdu.ID)
	req := placementRequest{profile: c.profile.ID, vcpu: vcpu, memoryMB: mem, allowed: c.profile.Sites, peers: map[string]int{}}
	for _, v := range all {
		if v.Profile == c.profile.ID && v.VDU == vdu.ID {
			index = max(index, v.Index+1)
			if live(v, ns.Desired.Replace) {
				req.peers[v.Site]++
			}
		}
	}
	req.affineSites, req.antiAffineSites = groupSites(p, c.profile, all, ns.Desired.Replace)
	i, reason, err := place(loads, req)
	if err != nil {
		return Vnfc{}, err
	}
	loads[i].used.VCPU += vcpu
	loads[i].used.MemoryMB += mem
	loads[i].used.Instances++
	v := Vnfc{
		ID: vnfcName(ns.ID, c.profile.ID, vdu.ID, len(c.vnfd.VDUs) > 1, index), NsID: ns.ID,
		Profile: c.profile.ID, VnfdID: c.vnfd.ID, VDU: vdu.ID, Index: index,
		Site: loads[i].site.Name, Placement: reason, State: VnfcPending,
		Slots: c.vnfd.Slots(c.df.ID, vdu.ID), OpID: opID, CreatedAt: now,
		Addresses: map[string]string{},
	}
	for _, cp := range vdu.IntCpds {
		vl, err := cpLink(p, c, vdu.ID, cp.ID)
		if err != nil {
			return Vnfc{}, err
		}
		ip, err := o.addressFor(p, c, nets[vl].cidr, used)
		if err != nil {
			return Vnfc{}, err
		}
		used[ip] = true
		v.Addresses[cp.ID] = ip
	}
	if v.Slots > 0 {
		// Best effort: without a health-check port stitch has no slots to read.
		v.SlotsEndpoint, _ = vnfm.SlotsEndpoint(vdu.HealthCheck, v.Addresses)
	}
	return v, nil
}

// vnfcName is the instance's id and VIM name: readable, and unique across
// NS instances through 48 bits of the NS id.
func vnfcName(nsID, profile, vdu string, multiVDU bool, index int) string {
	short := shortID(nsID)
	if multiVDU {
		return fmt.Sprintf("%s-%s-%s-%d", short, profile, vdu, index)
	}
	return fmt.Sprintf("%s-%s-%d", short, profile, index)
}

// groupSites returns the sites an instance must share (affinity) or avoid
// (anti-affinity) given its groups' placed members.
func groupSites(p *plan, prof *descriptors.VnfProfile, all []Vnfc, replace []string) (affine, anti []string) {
	for _, ref := range prof.AffinityOrAntiAffinityGroupIDs {
		var kind string
		for _, g := range p.df.AffinityOrAntiAffinityGroups {
			if g.ID == ref.ID {
				kind = g.Type
			}
		}
		members := map[string]bool{}
		for _, other := range p.df.VnfProfiles {
			for _, r := range other.AffinityOrAntiAffinityGroupIDs {
				if r.ID == ref.ID {
					members[other.ID] = true
				}
			}
		}
		for _, v := range all {
			if !members[v.Profile] || !live(v, replace) {
				continue
			}
			if kind == "affinity" && !slices.Contains(affine, v.Site) {
				affine = append(affine, v.Site)
			}
			if kind == "anti-affinity" && !slices.Contains(anti, v.Site) {
				anti = append(anti, v.Site)
			}
		}
	}
	return affine, anti
}

// cpLink finds the NS virtual link a VDU connection point is attached to,
// through the VNFD's ext-cpd and the profile's link connectivity.
func cpLink(p *plan, c constituent, vduID, cpd string) (string, error) {
	for _, ext := range c.vnfd.ExtCpds {
		if ext.IntCpd == nil || ext.IntCpd.VduID != vduID || ext.IntCpd.Cpd != cpd {
			continue
		}
		if vl, ok := p.df.LinkOf(c.profile.ID, ext.ID); ok {
			return vl, nil
		}
	}
	return "", fmt.Errorf("%w: connection point %s of VDU %s (vnf-profile %s) is on no NS virtual link; internal virtual links are not supported by this VIM yet", ErrInvalid, cpd, vduID, c.profile.ID)
}

// bringUp creates the instance on the VIM (idempotently) and waits until it
// is healthy. It returns how long the VIM and the program took.
func (o *Orchestrator) bringUp(ctx context.Context, ns NsInstance, p *plan, c constituent, vdu *descriptors.VDU, rec Vnfc, nets map[string]netInfo, r *run) (timing, error) {
	spec := vnfm.VnfcSpec{
		Name: rec.ID, Site: rec.Site, VNFD: c.vnfd, VDU: vdu, Slots: rec.Slots,
		NsID: ns.ID, Profile: rec.Profile, OpID: rec.OpID, Ports: map[string]vnfm.PortBinding{},
	}
	for cpd, ip := range rec.Addresses {
		vl, err := cpLink(p, c, vdu.ID, cpd)
		if err != nil {
			return timing{}, err
		}
		b := vnfm.PortBinding{Network: nets[vl].id, IP: ip}
		if o.cfg.Wiring != nil {
			if b.LogicalPort, err = logicalPort(ns.ID, rec.ID, cpd); err != nil {
				return timing{}, err
			}
			b.MAC = instanceMAC(rec.ID, cpd)
		}
		if err := routedBinding(p, c, vdu.ID, cpd, nets[vl].cidr, &b); err != nil {
			return timing{}, err
		}
		spec.Ports[cpd] = b
	}
	vimStart := time.Now()
	inst, err := o.vnfm.Deploy(ctx, spec)
	if err == nil && (inst.Status == vim.StatusExited || inst.Status == vim.StatusError) {
		// Left over from an earlier attempt: start afresh.
		if err = o.vnfm.Remove(ctx, rec.ID, 0); err == nil {
			inst, err = o.vnfm.Deploy(ctx, spec)
		}
	}
	t := timing{vim: time.Since(vimStart)}
	if errors.Is(err, vim.ErrNoCapacity) && rec.State == VnfcPending {
		// Placed on a site that filled up meanwhile: forget the placement
		// so that a retry places it again.
		o.deleteVnfcRecord(ctx, rec)
		return t, err
	}
	if err == nil && inst.Tags[vim.TagNSInstance] != ns.ID {
		err = fmt.Errorf("%w: VIM instance %s belongs to NS instance %q", ErrConflict, rec.ID, inst.Tags[vim.TagNSInstance])
	}
	if err != nil {
		o.updateVnfc(ctx, rec, func(v *Vnfc) { v.LastError = err.Error() })
		return t, err
	}
	started := time.Now()
	o.updateVnfc(ctx, rec, func(v *Vnfc) {
		v.State, v.LogPath, v.LastError = VnfcStarting, inst.LogPath, ""
	})
	hctx, cancel := context.WithTimeout(ctx, o.cfg.HealthTimeout)
	defer cancel()
	err = o.vnfm.WaitHealthy(hctx, rec.ID, rec.Site, vdu.HealthCheck, rec.Addresses)
	t.wait = time.Since(started)
	if err != nil {
		o.updateVnfc(ctx, rec, func(v *Vnfc) { v.LastError = err.Error() })
		return t, err
	}
	o.updateVnfc(ctx, rec, func(v *Vnfc) { v.State, v.HealthyAt = VnfcHealthy, o.now() })
	o.step(ctx, r.opID, "%s healthy on %s (VIM %s, program %s)", rec.ID, rec.Site,
		t.vim.Round(time.Millisecond), t.wait.Round(time.Millisecond))
	return t, nil
}

// deleteVnfcRecord drops a record that never reached the VIM.
func (o *Orchestrator) deleteVnfcRecord(ctx context.Context, rec Vnfc) {
	err := o.store.Update(ctx, func(tx store.Tx) error {
		return tx.Delete(bucketVnfc, rec.NsID+"/"+rec.ID)
	})
	if err != nil && ctx.Err() == nil {
		o.log.Warn("dropping instance record failed", "vnfc", rec.ID, "err", err)
	}
}

// updateVnfc applies fn to the stored record, if it still exists.
func (o *Orchestrator) updateVnfc(ctx context.Context, rec Vnfc, fn func(*Vnfc)) {
	key := rec.NsID + "/" + rec.ID
	err := o.store.Update(ctx, func(tx store.Tx) error {
		v, err := store.GetJSON[Vnfc](tx, bucketVnfc, key)
		if err != nil {
			return err
		}
		fn(&v)
		return store.PutJSON(tx, bucketVnfc, key, v)
	})
	if err != nil && ctx.Err() == nil {
		o.log.Warn("updating instance record failed", "vnfc", rec.ID, "err", err)
	}
}

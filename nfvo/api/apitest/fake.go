// Package apitest holds a test double of the orchestrator for the tests of
// the northbound API (nfvo/api) and of the operator CLI (cmd/stitchctl).
//
// Fake is an in-memory stand-in for *nfvo.Orchestrator with just enough
// behaviour to exercise the HTTP layer and the CLI: a catalog keyed by
// "<id>:<version>", NS instances, LCM operation occurrences that advance
// along a scripted plan each time they are read, and subscriptions. It is
// NOT a model of the real orchestrator (no placement, no VIM, no store);
// the orchestrator itself is tested in package nfvo. Do not use it outside
// tests.
//
// The package deliberately does not import nfvo/api, so that api's own
// internal tests can use it without an import cycle; api's tests assert
// that *Fake satisfies api.Service.
package apitest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/stitchnfv/stitch/descriptors"
	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/servicerouter/control"
	"github.com/stitchnfv/stitch/vnfm"
)

// PlanStep is one transition of a scripted operation occurrence: reading
// the operation (GetOp) applies the next step of its plan.
type PlanStep struct {
	State   nfvo.OpState
	Message string        // recorded as an nfvo.Step when not empty
	Error   *nfvo.Problem // set on the operation when not nil
}

// CompletingPlan is the default plan: the operation starts, makes progress
// and completes.
func CompletingPlan() []PlanStep {
	return []PlanStep{
		{State: nfvo.OpProcessing, Message: "operation started"},
		{State: nfvo.OpProcessing, Message: "placed all VNFCs"},
		{State: nfvo.OpCompleted, Message: "operation completed"},
	}
}

// FailingPlan makes progress and then stops in FAILED_TEMP, retryable.
func FailingPlan(detail string) []PlanStep {
	return []PlanStep{
		{State: nfvo.OpProcessing, Message: "operation started"},
		{State: nfvo.OpFailedTemp, Message: "step failed", Error: &nfvo.Problem{Status: 500, Title: "Operation Failed", Detail: detail}},
	}
}

// Fake implements the orchestrator's northbound Service in memory. The
// zero value is not usable; call New. All methods are safe for concurrent
// use (the HTTP server calls them from many goroutines).
type Fake struct {
	mu    sync.Mutex
	clock time.Time
	seq   int
	vnfds map[string]nfvo.VnfdInfo // by package id "<id>:<version>"
	nsds  map[string]nfvo.NsdInfo
	ns    map[string]*nfvo.NsInstance
	vnfcs map[string][]nfvo.Vnfc // by NS instance id
	ops   map[string]*fakeOp
	opSeq []string // op ids in creation order
	subs  map[string]nfvo.Subscription
	errs  map[string]error
	calls []string
	plan  []PlanStep
	// interDomain: inter-domain routing is on (SetInterDomain).
	interDomain  bool
	domainPeers  []nfvo.DomainPeer
	domainRoutes []nfvo.DomainRoute
}

type fakeOp struct {
	occ    nfvo.LcmOpOcc
	plan   []PlanStep
	cursor int
}

// New returns an empty Fake whose clock starts at 2025-01-01T00:00:00Z and
// advances one second on every read, so outputs are deterministic.
func New() *Fake {
	return &Fake{
		clock: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		vnfds: map[string]nfvo.VnfdInfo{},
		nsds:  map[string]nfvo.NsdInfo{},
		ns:    map[string]*nfvo.NsInstance{},
		vnfcs: map[string][]nfvo.Vnfc{},
		ops:   map[string]*fakeOp{},
		subs:  map[string]nfvo.Subscription{},
		errs:  map[string]error{},
		plan:  CompletingPlan(),
	}
}

// SetError makes the named method (e.g. "GetNS") return err without
// touching any state, until cleared with a nil err.
func (f *Fake) SetError(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil {
		delete(f.errs, method)
		return
	}
	f.errs[method] = err
}

// SetPlan sets the plan of operations created from now on.
func (f *Fake) SetPlan(plan []PlanStep) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.plan = slices.Clone(plan)
}

// Calls returns the names of the methods called so far, in order.
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// AddVnfc records a VNFC of an NS instance, for read tests.
func (f *Fake) AddVnfc(v nfvo.Vnfc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.vnfcs[v.NsID] = append(f.vnfcs[v.NsID], v)
}

// enter records a call and returns the injected error, if any. Callers
// hold f.mu.
func (f *Fake) enter(method string) error {
	f.calls = append(f.calls, method)
	return f.errs[method]
}

func (f *Fake) now() time.Time {
	f.clock = f.clock.Add(time.Second)
	return f.clock
}

func (f *Fake) nextID(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s-%d", prefix, f.seq)
}

// descriptorDoc is the part of a VNFD or NSD document the fake reads. Both
// the flat form and SOL006's wrapped form ({"vnfd": {...}}) are accepted.
type descriptorDoc struct {
	ID          string   `json:"id"`
	Version     string   `json:"version"`
	Kind        string   `json:"kind"`
	Provider    string   `json:"provider"`
	ProductName string   `json:"product-name"`
	Name        string   `json:"name"`
	VnfdIDs     []string `json:"vnfd-id"`
}

var knownFields = []string{"id", "version", "kind", "provider", "product-name", "name", "vnfd-id",
	"description", "vdu", "df", "ext-cpd", "virtual-link-desc", "sapd", "vnffgd"}

// parseDoc decodes a YAML or JSON descriptor and lists top-level fields the
// fake does not know as warnings, the way the real catalog warns about
// fields stitch does not use.
func parseDoc(doc []byte, wrapper string) (descriptorDoc, json.RawMessage, []string, error) {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return descriptorDoc{}, nil, nil, fmt.Errorf("decode descriptor: %v: %w", err, nfvo.ErrInvalid)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(js, &top); err != nil {
		return descriptorDoc{}, nil, nil, fmt.Errorf("descriptor is not an object: %w", nfvo.ErrInvalid)
	}
	if inner, ok := top[wrapper]; ok && len(top) == 1 {
		js = inner
		top = nil
		if err := json.Unmarshal(js, &top); err != nil {
			return descriptorDoc{}, nil, nil, fmt.Errorf("%s is not an object: %w", wrapper, nfvo.ErrInvalid)
		}
	}
	var d descriptorDoc
	if err := json.Unmarshal(js, &d); err != nil {
		return descriptorDoc{}, nil, nil, fmt.Errorf("decode descriptor: %v: %w", err, nfvo.ErrInvalid)
	}
	if d.ID == "" {
		return descriptorDoc{}, nil, nil, fmt.Errorf("descriptor has no id: %w", nfvo.ErrInvalid)
	}
	if d.Version == "" {
		d.Version = "1.0"
	}
	var warnings []string
	for _, k := range slices.Sorted(maps.Keys(top)) {
		if !slices.Contains(knownFields, k) {
			warnings = append(warnings, fmt.Sprintf("%s: field not used by stitch", k))
		}
	}
	return d, js, warnings, nil
}

// latest resolves "<id>" to the newest version and "<id>:<version>" to
// itself. The fake orders versions by onboarding time, not by semver.
func latest[T any](m map[string]T, id string, key func(T) (string, time.Time)) (T, error) {
	if v, ok := m[id]; ok {
		return v, nil
	}
	var (
		best  T
		found bool
		at    time.Time
	)
	for _, v := range m {
		did, t := key(v)
		if did == id && (!found || t.After(at)) {
			best, found, at = v, true, t
		}
	}
	if !found {
		return best, fmt.Errorf("descriptor %q: %w", id, nfvo.ErrNotFound)
	}
	return best, nil
}

func sortedValues[T any](m map[string]T) []T {
	out := make([]T, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// OnboardVNFD implements the Service.
func (f *Fake) OnboardVNFD(_ context.Context, doc []byte) (nfvo.VnfdInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("OnboardVNFD"); err != nil {
		return nfvo.VnfdInfo{}, err
	}
	d, js, warnings, err := parseDoc(doc, "vnfd")
	if err != nil {
		return nfvo.VnfdInfo{}, fmt.Errorf("onboard VNFD: %w", err)
	}
	id := d.ID + ":" + d.Version
	if _, ok := f.vnfds[id]; ok {
		return nfvo.VnfdInfo{}, fmt.Errorf("VNFD %s is already onboarded: %w", id, nfvo.ErrConflict)
	}
	kind := d.Kind
	if kind == "" {
		kind = "vnf"
	}
	info := nfvo.VnfdInfo{ID: id, VnfdID: d.ID, Version: d.Version, Kind: kind, ProductName: d.ProductName,
		Provider: d.Provider, Warnings: warnings, OnboardedAt: f.now(), Document: js}
	f.vnfds[id] = info
	return info, nil
}

// ListVNFDs implements the Service.
func (f *Fake) ListVNFDs(context.Context) ([]nfvo.VnfdInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ListVNFDs"); err != nil {
		return nil, err
	}
	return sortedValues(f.vnfds), nil
}

// GetVNFD implements the Service.
func (f *Fake) GetVNFD(_ context.Context, id string) (nfvo.VnfdInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetVNFD"); err != nil {
		return nfvo.VnfdInfo{}, err
	}
	return latest(f.vnfds, id, func(v nfvo.VnfdInfo) (string, time.Time) { return v.VnfdID, v.OnboardedAt })
}

// DeleteVNFD implements the Service.
func (f *Fake) DeleteVNFD(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeleteVNFD"); err != nil {
		return err
	}
	info, err := latest(f.vnfds, id, func(v nfvo.VnfdInfo) (string, time.Time) { return v.VnfdID, v.OnboardedAt })
	if err != nil {
		return err
	}
	for _, n := range f.nsds {
		if slices.Contains(n.VnfdIDs, info.VnfdID) {
			return fmt.Errorf("VNFD %s is used by NSD %s: %w", info.ID, n.ID, nfvo.ErrConflict)
		}
	}
	delete(f.vnfds, info.ID)
	return nil
}

// OnboardNSD implements the Service.
func (f *Fake) OnboardNSD(_ context.Context, doc []byte) (nfvo.NsdInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("OnboardNSD"); err != nil {
		return nfvo.NsdInfo{}, err
	}
	d, js, warnings, err := parseDoc(doc, "nsd")
	if err != nil {
		return nfvo.NsdInfo{}, fmt.Errorf("onboard NSD: %w", err)
	}
	for _, v := range d.VnfdIDs {
		if _, err := latest(f.vnfds, v, func(v nfvo.VnfdInfo) (string, time.Time) { return v.VnfdID, v.OnboardedAt }); err != nil {
			return nfvo.NsdInfo{}, fmt.Errorf("onboard NSD: vnfd-id %q is not onboarded: %w", v, nfvo.ErrInvalid)
		}
	}
	id := d.ID + ":" + d.Version
	if _, ok := f.nsds[id]; ok {
		return nfvo.NsdInfo{}, fmt.Errorf("NSD %s is already onboarded: %w", id, nfvo.ErrConflict)
	}
	info := nfvo.NsdInfo{ID: id, NsdID: d.ID, Version: d.Version, Name: d.Name, VnfdIDs: d.VnfdIDs,
		Warnings: warnings, OnboardedAt: f.now(), Document: js}
	f.nsds[id] = info
	return info, nil
}

// ListNSDs implements the Service.
func (f *Fake) ListNSDs(context.Context) ([]nfvo.NsdInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ListNSDs"); err != nil {
		return nil, err
	}
	return sortedValues(f.nsds), nil
}

// GetNSD implements the Service.
func (f *Fake) GetNSD(_ context.Context, id string) (nfvo.NsdInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetNSD"); err != nil {
		return nfvo.NsdInfo{}, err
	}
	return f.nsd(id)
}

func (f *Fake) nsd(id string) (nfvo.NsdInfo, error) {
	return latest(f.nsds, id, func(v nfvo.NsdInfo) (string, time.Time) { return v.NsdID, v.OnboardedAt })
}

// DeleteNSD implements the Service.
func (f *Fake) DeleteNSD(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeleteNSD"); err != nil {
		return err
	}
	info, err := f.nsd(id)
	if err != nil {
		return err
	}
	for _, n := range f.ns {
		if n.NsdID == info.NsdID && n.NsdVersion == info.Version {
			return fmt.Errorf("NSD %s is used by NS instance %s: %w", info.ID, n.ID, nfvo.ErrConflict)
		}
	}
	delete(f.nsds, info.ID)
	return nil
}

// CreateNS implements the Service.
func (f *Fake) CreateNS(_ context.Context, req nfvo.CreateNsRequest) (nfvo.NsInstance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CreateNS"); err != nil {
		return nfvo.NsInstance{}, err
	}
	if req.Name == "" {
		return nfvo.NsInstance{}, fmt.Errorf("nsName is required: %w", nfvo.ErrInvalid)
	}
	ref := req.NsdID
	if req.NsdVersion != "" {
		ref += ":" + req.NsdVersion
	}
	nsd, err := f.nsd(ref)
	if err != nil {
		return nfvo.NsInstance{}, fmt.Errorf("create NS: %w", err)
	}
	now := f.now()
	ns := &nfvo.NsInstance{ID: f.nextID("ns"), Name: req.Name, Description: req.Description,
		NsdID: nsd.NsdID, NsdVersion: nsd.Version, State: nfvo.NsNotInstantiated,
		VnfdVersions: map[string]string{}, CreatedAt: now, UpdatedAt: now}
	for _, v := range nsd.VnfdIDs {
		if info, err := latest(f.vnfds, v, func(v nfvo.VnfdInfo) (string, time.Time) { return v.VnfdID, v.OnboardedAt }); err == nil {
			ns.VnfdVersions[v] = info.Version
		}
	}
	f.ns[ns.ID] = ns
	return f.nsView(ns), nil
}

// nsView copies an instance and fills in its VNFCs, as the real read does.
func (f *Fake) nsView(ns *nfvo.NsInstance) nfvo.NsInstance {
	out := *ns
	out.VnfdVersions = maps.Clone(ns.VnfdVersions)
	out.Desired.Replicas = maps.Clone(ns.Desired.Replicas)
	out.Vnfcs = slices.Clone(f.vnfcs[ns.ID])
	return out
}

// ListNS implements the Service.
func (f *Fake) ListNS(context.Context) ([]nfvo.NsInstance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ListNS"); err != nil {
		return nil, err
	}
	out := []nfvo.NsInstance{}
	for _, ns := range sortedValues(f.ns) {
		out = append(out, f.nsView(ns))
	}
	return out, nil
}

// GetNS implements the Service.
// TelemetryReports reports every instance of the NS connected, UP, with
// one requests value.
func (f *Fake) TelemetryReports(_ context.Context, id string) ([]vnfm.TelemetryReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("TelemetryReports"); err != nil {
		return nil, err
	}
	if _, ok := f.ns[id]; !ok {
		return nil, fmt.Errorf("NS instance %q: %w", id, nfvo.ErrNotFound)
	}
	out := []vnfm.TelemetryReport{}
	for _, v := range f.vnfcs[id] {
		out = append(out, vnfm.TelemetryReport{TelemetryTarget: vnfm.TelemetryTarget{Instance: v.ID, NS: id, Profile: v.Profile, Site: v.Site},
			Connected: true, Synced: true, OperStatus: "UP", LastHeard: f.clock.Add(-time.Second), Updates: 3,
			Values: []vnfm.TelemetryValue{{Path: "requests", IDs: []string{"requests"}, Value: 42, Timestamp: f.clock.Add(-2 * time.Second), Received: f.clock.Add(-time.Second)}}})
	}
	return out, nil
}

// ScalingPolicies reports one free-slots-ratio policy per NS instance
// with instances, on its first constituent, with its run-time changes.
func (f *Fake) ScalingPolicies(_ context.Context, id string) ([]nfvo.PolicyStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ScalingPolicies"); err != nil {
		return nil, err
	}
	return f.policies(id)
}

// UpdatePolicy records a change of the fake policy "slots".
func (f *Fake) UpdatePolicy(_ context.Context, id, policyID string, upd nfvo.PolicyUpdate) (nfvo.PolicyStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("UpdatePolicy"); err != nil {
		return nfvo.PolicyStatus{}, err
	}
	ps, err := f.policies(id)
	if err != nil {
		return nfvo.PolicyStatus{}, err
	}
	if len(ps) == 0 || policyID != ps[0].ID {
		return nfvo.PolicyStatus{}, fmt.Errorf("NS instance %s has no scaling policy %q: %w", id, policyID, nfvo.ErrNotFound)
	}
	if upd.Band != nil && upd.Band.Low >= upd.Band.High {
		return nfvo.PolicyStatus{}, fmt.Errorf("band: low %g is not below high %g: %w", upd.Band.Low, upd.Band.High, nfvo.ErrInvalid)
	}
	ns := f.ns[id]
	if ns.PolicyOverrides == nil {
		ns.PolicyOverrides = map[string]nfvo.PolicyUpdate{}
	}
	ns.PolicyOverrides[policyID] = upd
	f.ns[id] = ns
	ps, err = f.policies(id)
	return ps[0], err
}

// policies builds the fake policy list. f.mu held.
func (f *Fake) policies(id string) ([]nfvo.PolicyStatus, error) {
	ns, ok := f.ns[id]
	if !ok {
		return nil, fmt.Errorf("NS instance %q: %w", id, nfvo.ErrNotFound)
	}
	vnfcs := f.vnfcs[id]
	if len(vnfcs) == 0 {
		return []nfvo.PolicyStatus{}, nil
	}
	value := 0.5
	st := nfvo.PolicyStatus{ID: "slots", VnfProfileID: vnfcs[0].Profile, AspectID: "scale", Metric: descriptors.MetricFreeSlotsRatio,
		Band: &descriptors.Band{Low: 0.2, High: 0.8}, Cooldown: descriptors.Duration(30 * time.Second), MinInstances: 1, MaxInstances: 4,
		Instances: 1, Value: &value, Verdict: "free-slots-ratio 0.50 within [0.20, 0.80]"}
	if upd, ok := ns.PolicyOverrides["slots"]; ok {
		if upd.Band != nil {
			st.Band, st.Overridden = upd.Band, append(st.Overridden, "band")
		}
		if upd.Cooldown != nil {
			st.Cooldown, st.Overridden = *upd.Cooldown, append(st.Overridden, "cooldown")
		}
	}
	return []nfvo.PolicyStatus{st}, nil
}

// Routers reports one service router per NS instance with instances, in
// front of its instances with session slots: each has table entries in
// proportion to its slots and one session so far.
func (f *Fake) Routers(_ context.Context, id string) ([]nfvo.RouterView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Routers"); err != nil {
		return nil, err
	}
	if _, ok := f.ns[id]; !ok {
		return nil, fmt.Errorf("NS instance %q: %w", id, nfvo.ErrNotFound)
	}
	vnfcs := f.vnfcs[id]
	if len(vnfcs) == 0 {
		return []nfvo.RouterView{}, nil
	}
	svc := control.ServiceView{Name: "svc/sap", VIP: "10.0.0.100", Port: 8080, Protocol: "tcp"}
	total := 0
	for _, v := range vnfcs {
		total += v.Slots
	}
	for _, v := range vnfcs {
		if v.Slots == 0 {
			continue
		}
		share := float64(v.Slots) / float64(total)
		svc.Instances = append(svc.Instances, control.InstanceView{ID: v.ID, Entries: int(share * 65537), Share: 100 * share,
			Estimate: control.Estimate{Live: true, Free: v.Slots, Weight: uint32(v.Slots), SendRate: 2.5},
			Counters: control.Counters{NewSessions: 1, Packets: 10}})
		svc.Counters.NewSessions++
	}
	return []nfvo.RouterView{{VnfcID: id + "-sr", Site: vnfcs[0].Site, Address: "10.0.0.254", Services: []control.ServiceView{svc}}}, nil
}

// SlotReports reports, for each instance of the NS with session slots, a
// budget of its Slots with one slot in use, reported a second ago.
func (f *Fake) SlotReports(_ context.Context, id string) ([]nfvo.SlotReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("SlotReports"); err != nil {
		return nil, err
	}
	if _, ok := f.ns[id]; !ok {
		return nil, fmt.Errorf("NS instance %q: %w", id, nfvo.ErrNotFound)
	}
	out := []nfvo.SlotReport{}
	for _, v := range f.vnfcs[id] {
		if v.Slots > 0 {
			out = append(out, nfvo.SlotReport{VnfcID: v.ID, VnfProfileID: v.Profile, Site: v.Site, Max: v.Slots,
				Available: v.Slots - 1, InUse: 1, Seq: 1, ReportedAt: f.clock.Add(-time.Second), AgeMs: 1000})
		}
	}
	return out, nil
}

func (f *Fake) GetNS(_ context.Context, id string) (nfvo.NsInstance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetNS"); err != nil {
		return nfvo.NsInstance{}, err
	}
	ns, ok := f.ns[id]
	if !ok {
		return nfvo.NsInstance{}, fmt.Errorf("NS instance %q: %w", id, nfvo.ErrNotFound)
	}
	return f.nsView(ns), nil
}

// DeleteNS implements the Service.
func (f *Fake) DeleteNS(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeleteNS"); err != nil {
		return err
	}
	ns, ok := f.ns[id]
	if !ok {
		return fmt.Errorf("NS instance %q: %w", id, nfvo.ErrNotFound)
	}
	if ns.State != nfvo.NsNotInstantiated {
		return fmt.Errorf("NS instance %s is %s, terminate it first: %w", id, ns.State, nfvo.ErrState)
	}
	delete(f.ns, id)
	return nil
}

// startOp creates an operation occurrence on an NS instance that is not busy.
func (f *Fake) startOp(nsID string, typ nfvo.OpType, params any, want nfvo.NsState) (nfvo.LcmOpOcc, error) {
	ns, ok := f.ns[nsID]
	if !ok {
		return nfvo.LcmOpOcc{}, fmt.Errorf("NS instance %q: %w", nsID, nfvo.ErrNotFound)
	}
	if cur, ok := f.ops[ns.CurrentOp]; ok && cur.occ.OperationState.Running() {
		return nfvo.LcmOpOcc{}, &nfvo.BusyError{NsID: nsID, OpID: cur.occ.ID, Type: cur.occ.LcmOperationType}
	}
	if want != "" && ns.State != want {
		return nfvo.LcmOpOcc{}, fmt.Errorf("%s needs an NS instance in state %s, %s is %s: %w", typ, want, nsID, ns.State, nfvo.ErrState)
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return nfvo.LcmOpOcc{}, fmt.Errorf("encode operation params: %w", err)
	}
	now := f.now()
	op := &fakeOp{plan: slices.Clone(f.plan), occ: nfvo.LcmOpOcc{
		ID: f.nextID("op"), OperationState: nfvo.OpStarting, StateEnteredTime: now, StartTime: now,
		NsInstanceID: nsID, LcmOperationType: typ, OperationParams: raw, Reason: "operator request",
	}}
	f.ops[op.occ.ID] = op
	f.opSeq = append(f.opSeq, op.occ.ID)
	ns.CurrentOp = op.occ.ID
	ns.UpdatedAt = now
	return opView(op), nil
}

func opView(op *fakeOp) nfvo.LcmOpOcc {
	out := op.occ
	out.Steps = slices.Clone(op.occ.Steps)
	return out
}

// Instantiate implements the Service.
func (f *Fake) Instantiate(_ context.Context, id string, req nfvo.InstantiateRequest) (nfvo.LcmOpOcc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Instantiate"); err != nil {
		return nfvo.LcmOpOcc{}, err
	}
	return f.startOp(id, nfvo.OpInstantiate, req, nfvo.NsNotInstantiated)
}

// Scale implements the Service.
func (f *Fake) Scale(_ context.Context, id string, req nfvo.ScaleRequest) (nfvo.LcmOpOcc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Scale"); err != nil {
		return nfvo.LcmOpOcc{}, err
	}
	if req.ScaleVnfData.VnfProfileID == "" || req.ScaleVnfData.AspectID == "" {
		return nfvo.LcmOpOcc{}, fmt.Errorf("scaleVnfData needs vnfProfileId and aspectId: %w", nfvo.ErrInvalid)
	}
	return f.startOp(id, nfvo.OpScale, req, nfvo.NsInstantiated)
}

// Heal implements the Service.
func (f *Fake) Heal(_ context.Context, id string, req nfvo.HealRequest) (nfvo.LcmOpOcc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Heal"); err != nil {
		return nfvo.LcmOpOcc{}, err
	}
	return f.startOp(id, nfvo.OpHeal, req, nfvo.NsInstantiated)
}

// Terminate implements the Service.
func (f *Fake) Terminate(_ context.Context, id string, req nfvo.TerminateRequest) (nfvo.LcmOpOcc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("Terminate"); err != nil {
		return nfvo.LcmOpOcc{}, err
	}
	if req.Force {
		if ns, ok := f.ns[id]; ok {
			ns.CurrentOp = "" // a forced terminate pre-empts the running operation
		}
	}
	return f.startOp(id, nfvo.OpTerminate, req, nfvo.NsInstantiated)
}

// ListOps implements the Service.
func (f *Fake) ListOps(_ context.Context, nsID string) ([]nfvo.LcmOpOcc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ListOps"); err != nil {
		return nil, err
	}
	out := []nfvo.LcmOpOcc{}
	for _, id := range f.opSeq {
		if op := f.ops[id]; nsID == "" || op.occ.NsInstanceID == nsID {
			out = append(out, opView(op))
		}
	}
	return out, nil
}

// GetOp implements the Service. Each read advances the operation along its
// plan by one step, which is what lets `--watch` tests see progress.
func (f *Fake) GetOp(_ context.Context, id string) (nfvo.LcmOpOcc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("GetOp"); err != nil {
		return nfvo.LcmOpOcc{}, err
	}
	op, ok := f.ops[id]
	if !ok {
		return nfvo.LcmOpOcc{}, fmt.Errorf("operation occurrence %q: %w", id, nfvo.ErrNotFound)
	}
	f.advance(op)
	return opView(op), nil
}

func (f *Fake) advance(op *fakeOp) {
	if op.cursor >= len(op.plan) {
		return
	}
	st := op.plan[op.cursor]
	op.cursor++
	now := f.now()
	if st.Message != "" {
		op.occ.Steps = append(op.occ.Steps, nfvo.Step{At: now, Message: st.Message})
	}
	if st.Error != nil {
		op.occ.Error = st.Error
	}
	if st.State != op.occ.OperationState {
		op.occ.OperationState = st.State
		op.occ.StateEnteredTime = now
	}
	if st.State == nfvo.OpCompleted {
		f.complete(op)
	}
}

// complete applies a completed operation's effect on its NS instance.
func (f *Fake) complete(op *fakeOp) {
	ns, ok := f.ns[op.occ.NsInstanceID]
	if !ok {
		return
	}
	switch op.occ.LcmOperationType {
	case nfvo.OpInstantiate:
		ns.State = nfvo.NsInstantiated
		ns.Status = "HEALTHY"
		ns.Desired.Instantiated = true
		ns.Desired.Generation++
	case nfvo.OpTerminate:
		ns.State = nfvo.NsNotInstantiated
		ns.Status = ""
		ns.Desired = nfvo.Desired{Generation: ns.Desired.Generation + 1}
		delete(f.vnfcs, ns.ID)
	}
	ns.UpdatedAt = f.clock
}

// failedTemp returns the operation if it is in FAILED_TEMP.
func (f *Fake) failedTemp(id string) (*fakeOp, error) {
	op, ok := f.ops[id]
	if !ok {
		return nil, fmt.Errorf("operation occurrence %q: %w", id, nfvo.ErrNotFound)
	}
	if op.occ.OperationState != nfvo.OpFailedTemp {
		return nil, fmt.Errorf("operation %s is %s, not FAILED_TEMP: %w", id, op.occ.OperationState, nfvo.ErrState)
	}
	return op, nil
}

// RetryOp implements the Service: the operation resumes and completes.
func (f *Fake) RetryOp(_ context.Context, id string) (nfvo.LcmOpOcc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("RetryOp"); err != nil {
		return nfvo.LcmOpOcc{}, err
	}
	op, err := f.failedTemp(id)
	if err != nil {
		return nfvo.LcmOpOcc{}, err
	}
	op.occ.OperationState, op.occ.StateEnteredTime, op.occ.Error = nfvo.OpProcessing, f.now(), nil
	op.plan, op.cursor = []PlanStep{{State: nfvo.OpProcessing, Message: "retrying"}, {State: nfvo.OpCompleted, Message: "operation completed"}}, 0
	return opView(op), nil
}

// RollbackOp implements the Service: the operation rolls back on the next read.
func (f *Fake) RollbackOp(_ context.Context, id string) (nfvo.LcmOpOcc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("RollbackOp"); err != nil {
		return nfvo.LcmOpOcc{}, err
	}
	op, err := f.failedTemp(id)
	if err != nil {
		return nfvo.LcmOpOcc{}, err
	}
	op.occ.OperationState, op.occ.StateEnteredTime = nfvo.OpRollingBack, f.now()
	op.plan, op.cursor = []PlanStep{{State: nfvo.OpRolledBack, Message: "rolled back"}}, 0
	return opView(op), nil
}

// FailOp implements the Service: the operation is marked FAILED at once.
func (f *Fake) FailOp(_ context.Context, id string) (nfvo.LcmOpOcc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("FailOp"); err != nil {
		return nfvo.LcmOpOcc{}, err
	}
	op, err := f.failedTemp(id)
	if err != nil {
		return nfvo.LcmOpOcc{}, err
	}
	op.occ.OperationState, op.occ.StateEnteredTime = nfvo.OpFailed, f.now()
	op.plan, op.cursor = nil, 0
	return opView(op), nil
}

// CreateSubscription implements the Service.
func (f *Fake) CreateSubscription(_ context.Context, s nfvo.Subscription) (nfvo.Subscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("CreateSubscription"); err != nil {
		return nfvo.Subscription{}, err
	}
	if !strings.HasPrefix(s.CallbackURI, "http://") && !strings.HasPrefix(s.CallbackURI, "https://") {
		return nfvo.Subscription{}, fmt.Errorf("callbackUri %q is not an http(s) URL: %w", s.CallbackURI, nfvo.ErrInvalid)
	}
	s.ID = f.nextID("sub")
	s.CreatedAt = f.now()
	s.NsInstanceIDs = slices.Clone(s.NsInstanceIDs)
	f.subs[s.ID] = s
	return s, nil
}

// ListSubscriptions implements the Service.
func (f *Fake) ListSubscriptions(context.Context) ([]nfvo.Subscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("ListSubscriptions"); err != nil {
		return nil, err
	}
	return sortedValues(f.subs), nil
}

// DeleteSubscription implements the Service.
func (f *Fake) DeleteSubscription(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("DeleteSubscription"); err != nil {
		return err
	}
	if _, ok := f.subs[id]; !ok {
		return fmt.Errorf("subscription %q: %w", id, nfvo.ErrNotFound)
	}
	delete(f.subs, id)
	return nil
}

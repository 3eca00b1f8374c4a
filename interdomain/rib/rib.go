package rib

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"time"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

// RIB is the routing state of one domain.
type RIB struct {
	cfg Config
	// svcs holds, per service, Adj-RIB-In and local routes (one path per
	// peer, "" = local), the Loc-RIB entry and Adj-RIB-Out: one map
	// look-up finds all a decision or an export needs.
	svcs map[string]*entry
	// peers indexes paths for per-peer operations.
	peers map[string]*peerIndex
	// nLoc counts the services with a best path.
	nLoc int
	// outPeers indexes Adj-RIB-Out, kept in the entries, per peer.
	outPeers map[string]*peerIndex
	// tombs holds retractions: service → origin → highest epoch retracted.
	tombs map[string]map[string]tombstone
	// oldestTomb is when the oldest tombstone was recorded, or earlier:
	// ExpireTombstones does nothing before it is due.
	oldestTomb time.Time
	stats      Stats
	// lastPath is the last domain path stored, which the next route's
	// path is compared with (a table's routes mostly share one). Paths
	// the RIB holds are never modified in place, so they can be shared.
	lastPath []string
	// expFrom and expPath are the last path exported and its export,
	// with our id prepended.
	expFrom, expPath []string
	// sigs is the slab signatures and batch proofs are copied into;
	// lastSig the last copy, shared by the next equal one (the routes of
	// a batch share their signature).
	sigs, lastSig []byte
	// memoSvc and memoE are lookup's last answer, if memoOK.
	memoSvc string
	memoE   *entry
	memoOK  bool
}

// sigSlab is the size of the slabs copySig carves signatures from.
const sigSlab = 16 << 10

// copyPath returns a copy of p the RIB owns; it may be shared with other
// routes.
func (t *RIB) copyPath(p []string) []string {
	if len(p) == 0 {
		return slices.Clone(p)
	}
	if !slices.Equal(p, t.lastPath) {
		t.lastPath = slices.Clip(slices.Clone(p))
	}
	return t.lastPath
}

// copySig returns a copy of sig, carved from a slab for the usual sizes;
// the copy of the last one if equal (the routes of a batch share their
// signature).
func (t *RIB) copySig(sig []byte) []byte {
	if len(sig) > 0 && bytes.Equal(sig, t.lastSig) {
		return t.lastSig
	}
	c := t.carve(sig)
	if len(c) > 0 {
		t.lastSig = c
	}
	return c
}

// copyProof returns a copy of a batch proof from the same slab; unlike a
// signature, no two routes share one.
func (t *RIB) copyProof(proof []byte) []byte { return t.carve(proof) }

// carve copies b into the slab, or on its own if empty or large.
func (t *RIB) carve(b []byte) []byte {
	n := len(b)
	if n == 0 || n > 256 {
		return slices.Clone(b)
	}
	if cap(t.sigs)-len(t.sigs) < n {
		t.sigs = make([]byte, 0, sigSlab)
	}
	off := len(t.sigs)
	t.sigs = append(t.sigs, b...)
	return t.sigs[off : off+n : off+n]
}

// New returns an empty RIB.
func New(cfg Config) *RIB {
	return &RIB{
		cfg:      cfg,
		svcs:     map[string]*entry{},
		peers:    map[string]*peerIndex{},
		outPeers: map[string]*peerIndex{},
		tombs:    map[string]map[string]tombstone{},
	}
}

// Stats returns the counters of refused routes.
func (t *RIB) Stats() Stats { return t.stats }

// Check tells whether a route from a peer is acceptable: no loop through us,
// not of an epoch its origin retracted, and signed by its origin. Refusals
// are counted.
func (t *RIB) Check(r wire.Route) error { return t.check(r, Verdict{}) }

// check is Check with the outcome v of an earlier signature check (see
// Precheck), used instead of verifying again if it was made against the
// origin's key the RIB knows now. Every other check, and the counting of a
// refusal, is the same either way.
func (t *RIB) check(r wire.Route, v Verdict) error {
	if slices.Contains(r.Path, t.cfg.LocalID) || r.Origin == t.cfg.LocalID {
		t.stats.Loops++
		return fmt.Errorf("route %q path %v: %w", r.Service, r.Path, ErrLoop)
	}
	if t.stale(r) {
		t.stats.Stale++
		return fmt.Errorf("route %q from origin %q, epoch %d: %w", r.Service, r.Origin, r.Epoch, ErrStale)
	}
	var pub []byte
	if t.cfg.Keys != nil {
		if k, ok := t.cfg.Keys.PublicKey(r.Origin); ok {
			pub = k
		}
	}
	if pub == nil {
		t.stats.UnknownOrigins++
		return fmt.Errorf("route %q: %w %q", r.Service, ErrUnknownOrigin, r.Origin)
	}
	if v.Key != nil && bytes.Equal(v.Key, pub) {
		if v.Err != nil {
			t.stats.BadSignatures++
			return v.Err
		}
		return nil
	}
	if t.verified(r) {
		return nil
	}
	if err := t.cfg.Verifier.Verify(r, pub); err != nil {
		t.stats.BadSignatures++
		return err
	}
	return nil
}

// verified reports whether a route with the same origin-signed fields and
// signature is already held (from any peer), so its signature was checked.
// The signature does not cover slots, metric or path, so the frequent slot
// updates and the same route arriving over several peers cost one ed25519
// verification (~35 µs) instead of one each.
func (t *RIB) verified(r wire.Route) bool {
	e := t.svcs[r.Service]
	if e == nil {
		return false
	}
	for i := range e.paths {
		p := &e.paths[i]
		h := p.Route
		if !p.Local() && h.Origin == r.Origin && h.Address == r.Address && h.Port == r.Port &&
			h.Proto == r.Proto && h.Ingress == r.Ingress && h.Epoch == r.Epoch && bytes.Equal(h.Signature, r.Signature) &&
			h.BatchIndex == r.BatchIndex && bytes.Equal(h.BatchProof, r.BatchProof) {
			return true
		}
	}
	return false
}

// CheckFrom is Check for a route peer sent: its domain path must also
// start with peer, as BGP enforces the first AS. The origin's signature
// does not cover the path, so without this a neighbour could replay
// another domain's genuinely signed route with that domain alone as path
// and look one hop from its service.
func (t *RIB) CheckFrom(peer string, r wire.Route) error {
	return t.CheckFromVerified(peer, r, Verdict{})
}

// CheckFromVerified is CheckFrom for a route whose origin signature was
// already checked, off the RIB's goroutine, with the outcome v (see
// Precheck). If v was made against the key the RIB knows for the origin
// now, the RIB takes its outcome instead of verifying again: a bad
// signature is refused and counted exactly as CheckFrom would. A zero v,
// or one made against another key, changes nothing.
func (t *RIB) CheckFromVerified(peer string, r wire.Route, v Verdict) error {
	if len(r.Path) == 0 || r.Path[0] != peer {
		t.stats.WrongFirstHop++
		return fmt.Errorf("route %q from %s with path %v: %w", r.Service, peer, r.Path, ErrFirstHop)
	}
	return t.check(r, v)
}

// Verdict is the outcome of checking a route's origin signature ahead of
// the RIB (see Precheck). The zero Verdict says nothing.
type Verdict struct {
	// Key is the origin key the signature was checked against; nil if it
	// was not checked.
	Key ed25519.PublicKey
	// Err is wire.Verify's result: nil if the signature is good.
	Err error
}

// SignatureVerifier checks an origin signature: a *wire.Verifier, or a
// *wire.Run for the routes of one UPDATE in order.
type SignatureVerifier interface {
	Verify(r wire.Route, pub ed25519.PublicKey) error
}

// Precheck verifies r's origin signature against the key keys give for its
// origin, as Check would, with v (wire.Verify if nil). It touches no RIB,
// so it can run on any goroutine and in parallel (keys must allow that:
// StaticKeys does), and its Verdict is handed to CheckFromVerified: the
// ~35 µs ed25519 check then leaves the goroutine that owns the RIB. A route
// whose origin has no key gets a zero Verdict, and the RIB refuses it as
// usual.
func Precheck(keys KeyStore, v SignatureVerifier, r wire.Route) Verdict {
	if keys == nil {
		return Verdict{}
	}
	pub, ok := keys.PublicKey(r.Origin)
	if !ok || pub == nil {
		return Verdict{}
	}
	if v == nil {
		return Verdict{Key: pub, Err: wire.Verify(r, pub)}
	}
	return Verdict{Key: pub, Err: v.Verify(r, pub)}
}

// Learn checks a route announced by peer (see Check) and stores it in
// Adj-RIB-In, replacing the peer's previous route for the service. It
// returns the change of best path, if any. A refused route leaves the RIB
// untouched; the caller decides what happens to the peer's previous route
// (the fsm treats the refusal as a withdrawal, as RFC 7606 does for BGP,
// since the peer no longer announces that previous route).
func (t *RIB) Learn(peer string, r wire.Route) (*Change, error) {
	if err := t.Check(r); err != nil {
		return nil, err
	}
	return t.Store(peer, r, false)
}

// Store puts a route that passed Check into peer's Adj-RIB-In without
// checking it again (a signature check costs ~35 µs). suppressed stores it
// held back by flap damping: kept, so that it can be used once reused, but
// not a candidate. A route already suppressed stays so.
func (t *RIB) Store(peer string, r wire.Route, suppressed bool) (*Change, error) {
	c, ok, err := t.StoreChange(peer, r, suppressed)
	if !ok {
		return nil, err
	}
	return &c, nil
}

// StoreChange is Store returning the change by value, and whether there is
// one: the caller that copies it saves an allocation per route.
func (t *RIB) StoreChange(peer string, r wire.Route, suppressed bool) (Change, bool, error) {
	if peer == "" {
		return Change{}, false, errors.New("rib: store from empty peer id")
	}
	pref := DefaultPreference
	if t.cfg.Preference != nil {
		pref = t.cfg.Preference(peer, r)
	}
	// A copy, as r.Clone, but its path interned and its signature carved
	// from a slab: no allocation per route for a table's usual paths.
	r.Path = t.copyPath(r.Path)
	r.Signature = t.copySig(r.Signature)
	r.BatchProof = t.copyProof(r.BatchProof)
	p := Path{Peer: peer, Route: r, Pref: int32(min(max(pref, math.MinInt32), math.MaxInt32))}
	e := t.entry(r.Service)
	if old := e.path(peer); old != nil {
		p.Suppressed = old.Suppressed
	}
	p.Suppressed = p.Suppressed || suppressed
	t.put(e, p)
	c, ok := t.decideEntry(r.Service, e)
	return c, ok, nil
}

// Withdraw removes peer's route for service.
func (t *RIB) Withdraw(peer, service string) *Change {
	if c, ok := t.WithdrawChange(peer, service); ok {
		return &c
	}
	return nil
}

// WithdrawChange is Withdraw returning the change by value, and whether
// there is one.
func (t *RIB) WithdrawChange(peer, service string) (Change, bool) {
	e := t.svcs[service]
	if e == nil || !t.remove(e, peer, service) {
		return Change{}, false
	}
	return t.decideEntry(service, e)
}

// Originate installs or replaces a route we originate (Peer ""). Its Path
// is ignored: our id is prepended on export like any route's.
func (t *RIB) Originate(r wire.Route) *Change {
	r = r.Clone()
	r.Path = nil
	e := t.entry(r.Service)
	t.put(e, Path{Route: r, Pref: DefaultPreference})
	if c, ok := t.decideEntry(r.Service, e); ok {
		return &c
	}
	return nil
}

// WithdrawLocal removes a route we originate.
func (t *RIB) WithdrawLocal(service string) *Change { return t.Withdraw("", service) }

// Local returns the route we originate for service.
func (t *RIB) Local(service string) (wire.Route, bool) {
	p := t.get("", service)
	if p == nil {
		return wire.Route{}, false
	}
	return p.Route, true
}

// Get returns the Adj-RIB-In entry of peer for service.
func (t *RIB) Get(peer, service string) (Path, bool) {
	p := t.get(peer, service)
	if p == nil {
		return Path{}, false
	}
	return *p, true
}

// SetSuppressed marks peer's route for service as damped or usable again.
func (t *RIB) SetSuppressed(peer, service string, suppressed bool) *Change {
	p := t.get(peer, service)
	if p == nil || p.Suppressed == suppressed {
		return nil
	}
	p.Suppressed = suppressed
	return t.decide(service)
}

// Count returns how many routes peer has in Adj-RIB-In.
func (t *RIB) Count(peer string) int {
	if x := t.peers[peer]; x != nil {
		return x.n
	}
	return 0
}

// PeerRoutes returns peer's Adj-RIB-In, sorted by service.
func (t *RIB) PeerRoutes(peer string) []Path {
	var out []Path
	for _, s := range t.peerServices(peer) {
		out = append(out, *t.get(peer, s))
	}
	return out
}

// DropPeer removes everything learnt from peer, as when its session goes
// down without graceful restart.
func (t *RIB) DropPeer(peer string) []Change {
	var out []Change
	for _, s := range slices.Clone(t.peerServices(peer)) {
		if c := t.Withdraw(peer, s); c != nil {
			out = append(out, *c)
		}
	}
	return out
}

// MarkStale marks all of peer's routes stale, at the start of its graceful
// restart, and returns how many. They stay usable until refreshed or
// flushed.
func (t *RIB) MarkStale(peer string) int {
	for _, s := range t.peerServices(peer) {
		e := t.svcs[s]
		e.path(peer).Stale = true
		if b := e.best; b != nil && b.Peer == peer {
			b.Stale = true
		}
	}
	return t.Count(peer)
}

// FlushStale removes peer's routes still stale: those not re-announced
// since MarkStale.
func (t *RIB) FlushStale(peer string) []Change {
	var out []Change
	for _, s := range slices.Clone(t.peerServices(peer)) {
		if t.get(peer, s).Stale {
			if c := t.Withdraw(peer, s); c != nil {
				out = append(out, *c)
			}
		}
	}
	return out
}

// Best returns the Loc-RIB entry for service.
func (t *RIB) Best(service string) (Best, bool) {
	b := t.best(service)
	if b == nil {
		return Best{}, false
	}
	return *b, true
}

// LocRIB returns every best path, sorted by service.
func (t *RIB) LocRIB() []Best {
	out := make([]Best, 0, t.nLoc)
	for _, s := range t.Services() {
		out = append(out, *t.svcs[s].best)
	}
	return out
}

// Candidates returns every path for service, best first by the plain order
// (without hysteresis), suppressed ones included at the end; the service
// router uses it to find the best remote route for overflow.
func (t *RIB) Candidates(service string) []Path {
	var out []Path
	if e := t.svcs[service]; e != nil {
		for _, p := range e.paths {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Path) int {
		if a.Suppressed != b.Suppressed {
			if a.Suppressed {
				return 1
			}
			return -1
		}
		c, _ := t.compare(a, b, false)
		return -c
	})
	return out
}

// peerIndex lists the services a peer has a path for (or, in outPeers,
// was sent a route for). Adding one appends to a list and removing one
// only counts: a map would cost a hash insertion and deletion per route.
// The list may hold services the peer no longer has, or has twice; it is
// sorted out when read, and compacted as it grows.
type peerIndex struct {
	n    int      // services the peer has
	svcs []string // a superset of them
	// clean is whether svcs is sorted, unique and exact.
	clean bool
}

// compact makes x.svcs exactly the services has reports, sorted.
func (x *peerIndex) compact(has func(service string) bool) {
	slices.Sort(x.svcs)
	x.svcs = slices.Compact(x.svcs)
	kept := x.svcs[:0]
	for _, s := range x.svcs {
		if has(s) {
			kept = append(kept, s)
		}
	}
	clear(x.svcs[len(kept):]) // release the names
	x.svcs = kept
	x.clean = true
}

// add notes that a service was added to the peer's.
func (x *peerIndex) add(service string, has func(service string) bool) {
	x.n++
	x.svcs = append(x.svcs, service)
	x.clean = false
	if len(x.svcs) > 2*x.n+1024 {
		x.compact(has)
	}
}

// removed notes that a service was removed from the peer's, and reports
// whether the peer has none left.
//
// It does not compact: that would cost a look-up per name listed, as much
// as the map this replaces. Like a map, which never shrinks, the list
// keeps the size of the peer's largest table until it is read, the peer
// adds services, or it has none left.
func (x *peerIndex) removed() bool {
	x.n--
	x.clean = false
	return x.n == 0
}

// sorted returns the services, sorted. The slice is the index's own: valid
// until the next change of the RIB.
func (x *peerIndex) sorted(has func(service string) bool) []string {
	if x == nil {
		return nil
	}
	if !x.clean {
		x.compact(has)
	}
	return x.svcs
}

// peerServices returns the services peer has a path for, sorted. The slice
// is the index's own: valid until the next change of the RIB.
func (t *RIB) peerServices(peer string) []string {
	return t.peers[peer].sorted(func(s string) bool { return t.get(peer, s) != nil })
}

// entry is a service's paths, one per peer, its best path and the routes
// sent to peers. It stays while it holds a path or a route sent.
type entry struct {
	// paths are in no particular order: decisions sort them.
	paths []Path
	// one is paths' storage while the service has a single path, as most
	// do: one allocation per service.
	one  [1]Path
	best *Best
	// out is Adj-RIB-Out for the service: the route sent to each peer that
	// has one. oneOut is its storage while there is one.
	out    []outRoute
	oneOut [1]outRoute
}

// outRoute is a route in a peer's Adj-RIB-Out.
type outRoute struct {
	peer  string
	route wire.Route
}

// sent returns the route sent to peer, or nil. The pointer is valid until
// the next change of e's Adj-RIB-Out.
func (e *entry) sent(peer string) *wire.Route {
	for i := range e.out {
		if e.out[i].peer == peer {
			return &e.out[i].route
		}
	}
	return nil
}

// empty reports whether e holds nothing, so can go.
func (e *entry) empty() bool { return len(e.paths) == 0 && len(e.out) == 0 }

// path returns the path learnt from peer, or nil. The pointer is valid
// until the next put or del for the service.
func (e *entry) path(peer string) *Path {
	for i := range e.paths {
		if e.paths[i].Peer == peer {
			return &e.paths[i]
		}
	}
	return nil
}

func (t *RIB) get(peer, service string) *Path {
	e := t.svcs[service]
	if e == nil {
		return nil
	}
	return e.path(peer)
}

// best returns the Loc-RIB entry of service, or nil.
func (t *RIB) best(service string) *Best {
	if e := t.svcs[service]; e != nil {
		return e.best
	}
	return nil
}

// lookup returns service's entry, or nil, remembering the last answer:
// exporting a service to each peer in turn, and the Adj-RIB-Out look-ups
// and updates that go with it, look it up once. Adding or removing an
// entry forgets it.
func (t *RIB) lookup(service string) *entry {
	if t.memoOK && t.memoSvc == service {
		return t.memoE
	}
	e := t.svcs[service]
	t.memoSvc, t.memoE, t.memoOK = service, e, true
	return e
}

// drop removes service's entry if it holds nothing.
func (t *RIB) drop(service string, e *entry) {
	if e.empty() {
		delete(t.svcs, service)
		t.memoSvc, t.memoE, t.memoOK = "", nil, false
	}
}

// entry returns service's entry, created empty if need be.
func (t *RIB) entry(service string) *entry {
	e := t.svcs[service]
	if e == nil {
		e = &entry{}
		e.paths, e.out = e.one[:0], e.oneOut[:0]
		t.svcs[service] = e
		t.memoOK = false
	}
	return e
}

// put stores p in e, the entry of its service, replacing the path from the
// same peer.
func (t *RIB) put(e *entry, p Path) {
	if old := e.path(p.Peer); old != nil {
		*old = p
		return
	}
	e.paths = append(e.paths, p)
	x := t.peers[p.Peer]
	if x == nil {
		x = &peerIndex{}
		t.peers[p.Peer] = x
	}
	x.add(p.Route.Service, func(s string) bool { return t.get(p.Peer, s) != nil })
}

// del removes peer's path for service. The entry stays, even empty, until
// decide has updated its best path.
func (t *RIB) del(peer, service string) {
	if e := t.svcs[service]; e != nil {
		t.remove(e, peer, service)
	}
}

// remove is del with service's entry e looked up. It reports whether e had
// a path from peer.
func (t *RIB) remove(e *entry, peer, service string) bool {
	found := false
	for i := range e.paths {
		if e.paths[i].Peer == peer {
			last := len(e.paths) - 1
			e.paths[i] = e.paths[last]
			e.paths[last] = Path{} // release the route
			e.paths = e.paths[:last]
			found = true
			break
		}
	}
	if !found {
		return false
	}
	if t.peers[peer].removed() {
		delete(t.peers, peer)
	}
	return true
}

// sameBest reports whether two Loc-RIB entries would export the same thing.
func sameBest(a, b *Best) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Peer == b.Peer && reflect.DeepEqual(a.Route, b.Route)
}

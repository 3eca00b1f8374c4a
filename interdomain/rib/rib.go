package rib

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"time"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

// RIB is the routing state of one domain.
type RIB struct {
	cfg Config
	// paths is Adj-RIB-In and local routes: service → peer ("" = local).
	paths map[string]map[string]*Path
	// byPeer indexes paths for per-peer operations.
	byPeer map[string]map[string]struct{}
	loc    map[string]*Best
	out    map[string]map[string]wire.Route
	// tombs holds retractions: service → origin → highest epoch retracted.
	tombs map[string]map[string]tombstone
	// oldestTomb is when the oldest tombstone was recorded, or earlier:
	// ExpireTombstones does nothing before it is due.
	oldestTomb time.Time
	stats      Stats
}

// New returns an empty RIB.
func New(cfg Config) *RIB {
	return &RIB{
		cfg:    cfg,
		paths:  map[string]map[string]*Path{},
		byPeer: map[string]map[string]struct{}{},
		loc:    map[string]*Best{},
		out:    map[string]map[string]wire.Route{},
		tombs:  map[string]map[string]tombstone{},
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
	if err := wire.Verify(r, pub); err != nil {
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
	for _, p := range t.paths[r.Service] {
		h := p.Route
		if !p.Local() && h.Origin == r.Origin && h.Address == r.Address && h.Port == r.Port &&
			h.Proto == r.Proto && h.Ingress == r.Ingress && h.Epoch == r.Epoch && bytes.Equal(h.Signature, r.Signature) {
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

// Precheck verifies r's origin signature against the key keys give for its
// origin, as Check would. It touches no RIB, so it can run on any goroutine
// and in parallel (keys must allow that: StaticKeys does), and its Verdict
// is handed to CheckFromVerified: the ~35 µs ed25519 check then leaves the
// goroutine that owns the RIB. A route whose origin has no key gets a zero
// Verdict, and the RIB refuses it as usual.
func Precheck(keys KeyStore, r wire.Route) Verdict {
	if keys == nil {
		return Verdict{}
	}
	pub, ok := keys.PublicKey(r.Origin)
	if !ok || pub == nil {
		return Verdict{}
	}
	return Verdict{Key: pub, Err: wire.Verify(r, pub)}
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
	if peer == "" {
		return nil, errors.New("rib: store from empty peer id")
	}
	pref := DefaultPreference
	if t.cfg.Preference != nil {
		pref = t.cfg.Preference(peer, r)
	}
	p := &Path{Peer: peer, Route: r.Clone(), Pref: pref}
	if old := t.get(peer, r.Service); old != nil {
		p.Suppressed = old.Suppressed
	}
	p.Suppressed = p.Suppressed || suppressed
	t.put(p)
	return t.decide(r.Service), nil
}

// Withdraw removes peer's route for service.
func (t *RIB) Withdraw(peer, service string) *Change {
	if t.get(peer, service) == nil {
		return nil
	}
	t.del(peer, service)
	return t.decide(service)
}

// Originate installs or replaces a route we originate (Peer ""). Its Path
// is ignored: our id is prepended on export like any route's.
func (t *RIB) Originate(r wire.Route) *Change {
	r = r.Clone()
	r.Path = nil
	t.put(&Path{Route: r, Pref: DefaultPreference})
	return t.decide(r.Service)
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
func (t *RIB) Count(peer string) int { return len(t.byPeer[peer]) }

// PeerRoutes returns peer's Adj-RIB-In, sorted by service.
func (t *RIB) PeerRoutes(peer string) []Path {
	var out []Path
	for _, s := range slices.Sorted(maps.Keys(t.byPeer[peer])) {
		out = append(out, *t.paths[s][peer])
	}
	return out
}

// DropPeer removes everything learnt from peer, as when its session goes
// down without graceful restart.
func (t *RIB) DropPeer(peer string) []Change {
	var out []Change
	for _, s := range slices.Sorted(maps.Keys(t.byPeer[peer])) {
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
	for s := range t.byPeer[peer] {
		t.paths[s][peer].Stale = true
		if b := t.loc[s]; b != nil && b.Peer == peer {
			b.Stale = true
		}
	}
	return len(t.byPeer[peer])
}

// FlushStale removes peer's routes still stale: those not re-announced
// since MarkStale.
func (t *RIB) FlushStale(peer string) []Change {
	var out []Change
	for _, s := range slices.Sorted(maps.Keys(t.byPeer[peer])) {
		if t.paths[s][peer].Stale {
			if c := t.Withdraw(peer, s); c != nil {
				out = append(out, *c)
			}
		}
	}
	return out
}

// Best returns the Loc-RIB entry for service.
func (t *RIB) Best(service string) (Best, bool) {
	b := t.loc[service]
	if b == nil {
		return Best{}, false
	}
	return *b, true
}

// LocRIB returns every best path, sorted by service.
func (t *RIB) LocRIB() []Best {
	out := make([]Best, 0, len(t.loc))
	for _, s := range slices.Sorted(maps.Keys(t.loc)) {
		out = append(out, *t.loc[s])
	}
	return out
}

// Candidates returns every path for service, best first by the plain order
// (without hysteresis), suppressed ones included at the end; the service
// router uses it to find the best remote route for overflow.
func (t *RIB) Candidates(service string) []Path {
	var out []Path
	for _, p := range t.paths[service] {
		out = append(out, *p)
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

func (t *RIB) get(peer, service string) *Path { return t.paths[service][peer] }

func (t *RIB) put(p *Path) {
	s := p.Route.Service
	// One lookup per map: put runs for every route learnt.
	m := t.paths[s]
	if m == nil {
		m = map[string]*Path{}
		t.paths[s] = m
	}
	m[p.Peer] = p
	bp := t.byPeer[p.Peer]
	if bp == nil {
		bp = map[string]struct{}{}
		t.byPeer[p.Peer] = bp
	}
	bp[s] = struct{}{}
}

func (t *RIB) del(peer, service string) {
	delete(t.paths[service], peer)
	if len(t.paths[service]) == 0 {
		delete(t.paths, service)
	}
	delete(t.byPeer[peer], service)
	if len(t.byPeer[peer]) == 0 {
		delete(t.byPeer, peer)
	}
}

// sameBest reports whether two Loc-RIB entries would export the same thing.
func sameBest(a, b *Best) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Peer == b.Peer && reflect.DeepEqual(a.Route, b.Route)
}

package rib

import (
	"crypto/ed25519"
	"errors"
	"time"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

// Reasons a learnt route is refused. The route is dropped and counted; the
// session stays up, since one bad route is not a broken peer.
var (
	ErrLoop          = errors.New("domain path contains our own domain")
	ErrUnknownOrigin = errors.New("no public key for origin domain")
	ErrFirstHop      = errors.New("domain path does not start with the neighbour that sent it")
	ErrStale         = errors.New("route epoch retracted by its origin")
	ErrBadSignature  = wire.ErrBadSignature
)

// KeyStore returns the known public key of a domain.
type KeyStore interface {
	PublicKey(domain string) (ed25519.PublicKey, bool)
}

// StaticKeys is a KeyStore from a map, as read from configuration.
type StaticKeys map[string]ed25519.PublicKey

// PublicKey implements KeyStore.
func (k StaticKeys) PublicKey(domain string) (ed25519.PublicKey, bool) {
	p, ok := k[domain]
	return p, ok
}

// Hysteresis is the margin a challenger must beat the current best path by
// on free slots: max(Percent% of the incumbent's slots, Slots).
type Hysteresis struct {
	Percent uint32
	Slots   uint32
}

func (h Hysteresis) margin(incumbent uint32) uint64 {
	return max(uint64(incumbent)*uint64(h.Percent)/100, uint64(h.Slots))
}

// Config configures a RIB.
type Config struct {
	LocalID string
	Keys    KeyStore
	// Verifier checks origin signatures, remembering batch roots (see
	// wire.SignBatch); nil verifies every route on its own.
	Verifier *wire.Verifier
	// Preference returns the local preference of a route learnt from peer;
	// higher wins. Nil gives every route DefaultPreference.
	Preference func(peer string, r wire.Route) int
	Hysteresis Hysteresis
	// TombstoneTTL is how long a retraction is remembered, to refuse the
	// retracted routes still in flight; DefaultTombstoneTTL if zero. It
	// must exceed the time any route takes to cross the network.
	TombstoneTTL time.Duration
	// MaxTombstones caps the retractions remembered per service (one per
	// origin); the oldest is forgotten first. DefaultMaxTombstones if zero.
	MaxTombstones int
}

// Defaults of Config.TombstoneTTL and Config.MaxTombstones.
const (
	DefaultTombstoneTTL  = 10 * time.Minute
	DefaultMaxTombstones = 64
)

// DefaultPreference is the local preference of routes when no policy says
// otherwise (BGP's customary 100).
const DefaultPreference = 100

// Path is one route in the RIB with where it came from.
type Path struct {
	// Peer is the domain the route was learnt from; empty for a route we
	// originate.
	Peer  string
	Route wire.Route
	// Pref is the local preference, Config.Preference's clamped to 32
	// bits: with the two flags below it fills one word, which keeps a
	// RIB entry within a smaller allocation class.
	Pref int32
	// Stale marks a route kept across a peer's graceful restart and not yet
	// refreshed. Stale routes stay usable until flushed.
	Stale bool
	// Suppressed marks a route held back by flap damping; it is not a
	// candidate for best path.
	Suppressed bool
}

// Local reports whether we originate the path.
func (p Path) Local() bool { return p.Peer == "" }

func (p Path) via() string {
	if p.Local() {
		return "local"
	}
	return "via " + p.Peer
}

// Best is the Loc-RIB entry of a service.
type Best struct {
	Path
	// Reason explains why this path won, for the operator's CLI.
	Reason string
}

// Change is a change of a service's best path. Old or New is nil when the
// service had or has no best path.
type Change struct {
	Service  string
	Old, New *Best
}

// Stats counts refused routes.
type Stats struct {
	Loops, BadSignatures, UnknownOrigins uint64
	// WrongFirstHop counts routes whose path did not start with the
	// neighbour that sent them (a replayed route posing as nearer).
	WrongFirstHop uint64
	// Stale counts routes refused because their origin retracted their
	// epoch (announcements still in flight when the retraction passed).
	Stale uint64
	// BadRetractions and UnknownRetractions count retractions dropped for
	// a signature that does not verify or an origin without a known key.
	BadRetractions, UnknownRetractions uint64
}

// ExportPolicy says what a peer is shown.
type ExportPolicy struct {
	// Services, if not nil, lists the only services exported.
	Services []string
	// MaxSlots caps the slots revealed per route (FUSION: a domain may show
	// only part of its capacity); 0 means no cap.
	MaxSlots uint32
	// Metric is added to a route's metric on export to this peer: the cost
	// or latency of the link to it.
	Metric uint32
}

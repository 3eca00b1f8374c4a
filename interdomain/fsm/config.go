package fsm

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"github.com/stitchnfv/stitch/interdomain/damping"
	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

// Defaults for zero Config fields.
const (
	DefaultHoldTime = 90 * time.Second
	DefaultMRAI     = 5 * time.Second
	// MinHoldTime is the smallest non-zero hold time accepted in an OPEN,
	// as in BGP: less would make keepalives a flood.
	MinHoldTime = 3 * time.Second
	// DefaultVerifierRoots is how many batch roots a Speaker's Verifier
	// remembers: a table of 1,000,000 routes in batches of 128 has ~7,800.
	DefaultVerifierRoots = 1 << 14
)

// Defaults of Config.Hysteresis and Config.SlotThreshold: slot counts move
// with every session, so moves within max(20%, 2 slots) neither re-announce
// a local service at once nor change a best path.
const (
	DefaultSlotPercent = 20
	DefaultSlotMargin  = 2
)

// PeerConfig configures one neighbour.
type PeerConfig struct {
	// ID is the neighbour's domain id; its OPEN must carry it.
	ID     string
	Export rib.ExportPolicy
	// MaxRoutes is how many routes the peer may announce; more closes the
	// session with a NOTIFICATION. 0 means no limit.
	MaxRoutes int
	// MRAI overrides Config.MRAI for this peer when non-zero.
	MRAI time.Duration
}

// SlotThreshold is how much a local service's slot count must move to be
// re-announced at once: more than max(Percent% of the announced count,
// Slots). Smaller moves wait for the slot interval.
type SlotThreshold struct {
	Percent uint32
	Slots   uint32
}

// Config configures a Speaker.
type Config struct {
	LocalID string
	// Key signs the routes we originate.
	Key ed25519.PrivateKey
	// Keys holds the public keys of origin domains.
	Keys rib.KeyStore
	// Verifier checks origin signatures and remembers batch roots (see
	// wire.SignBatch); a new one if nil. A transport that verifies ahead
	// of the Speaker (ReceiveVerified) shares it.
	Verifier *wire.Verifier
	// DisableBatchSignatures stops us advertising that we verify
	// batch-signed routes, so peers send us none, as to a speaker of the
	// first protocol version; for interoperability tests.
	DisableBatchSignatures bool
	Peers                  []PeerConfig
	// HoldTime we offer; DefaultHoldTime if zero.
	HoldTime time.Duration
	// MRAI is the minimum interval between announcement batches to a peer;
	// DefaultMRAI if zero, none if negative.
	MRAI time.Duration
	// RestartTime, when positive, advertises graceful restart: peers keep
	// our routes that long if our session drops without NOTIFICATION.
	RestartTime time.Duration
	// Damping enables route flap damping; nil disables it.
	Damping *damping.Config
	// Hysteresis is the slot margin a new best path must win by; the
	// DefaultSlotPercent/DefaultSlotMargin if zero.
	Hysteresis rib.Hysteresis
	// Preference is the local policy preference of a learnt route.
	Preference func(peer string, r wire.Route) int
	// SlotThreshold and SlotInterval rate-limit local slot updates; they
	// default to DefaultSlotPercent/DefaultSlotMargin and the MRAI.
	SlotThreshold SlotThreshold
	SlotInterval  time.Duration
	// DisableGhostFlushing turns off the immediate withdrawal of a path
	// that got longer while the MRAI holds its replacement back. It is on
	// by default because path exploration after a withdrawal otherwise
	// takes one MRAI per step (see export.go).
	DisableGhostFlushing bool
	// MaxMessageSize bounds the UPDATEs we build; wire.MaxMessageSize if 0.
	MaxMessageSize int
	// DisableRetractions makes Withdraw send plain withdrawals only, as an
	// origin of the first protocol version did, without a signed
	// retraction (see retract.go). Retractions received are still applied
	// and flooded. For comparisons and for tests of path exploration.
	DisableRetractions bool
	// TombstoneTTL is how long retractions are remembered to refuse
	// retracted routes still in flight; rib.DefaultTombstoneTTL if zero.
	TombstoneTTL time.Duration
}

// Errors returned to the caller for misuse (never for a peer's mistakes,
// which become NOTIFICATIONs and events).
var (
	ErrUnknownPeer = errors.New("unknown peer")
	ErrNotIdle     = errors.New("session not idle")
	ErrNotUp       = errors.New("session not established")
	ErrConfig      = errors.New("invalid configuration")
)

func (c *Config) normalise() error {
	if c.LocalID == "" {
		return fmt.Errorf("%w: empty local id", ErrConfig)
	}
	if len(c.Key) != ed25519.PrivateKeySize {
		return fmt.Errorf("%w: signing key of %d bytes", ErrConfig, len(c.Key))
	}
	if c.HoldTime == 0 {
		c.HoldTime = DefaultHoldTime
	}
	if c.HoldTime < MinHoldTime {
		return fmt.Errorf("%w: hold time %v below %v", ErrConfig, c.HoldTime, MinHoldTime)
	}
	switch {
	case c.MRAI == 0:
		c.MRAI = DefaultMRAI
	case c.MRAI < 0:
		c.MRAI = 0
	}
	if c.Hysteresis == (rib.Hysteresis{}) {
		c.Hysteresis = rib.Hysteresis{Percent: DefaultSlotPercent, Slots: DefaultSlotMargin}
	}
	if c.SlotThreshold == (SlotThreshold{}) {
		c.SlotThreshold = SlotThreshold{Percent: DefaultSlotPercent, Slots: DefaultSlotMargin}
	}
	if c.SlotInterval == 0 {
		c.SlotInterval = c.MRAI
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = wire.MaxMessageSize
	}
	if c.Verifier == nil {
		c.Verifier = wire.NewVerifier(DefaultVerifierRoots)
	}
	seen := map[string]bool{}
	for _, p := range c.Peers {
		if p.ID == "" || p.ID == c.LocalID || seen[p.ID] {
			return fmt.Errorf("%w: peer id %q empty, ours or repeated", ErrConfig, p.ID)
		}
		seen[p.ID] = true
	}
	return nil
}

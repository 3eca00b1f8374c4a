package transport

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/stitchnfv/stitch/interdomain/fsm"
	"github.com/stitchnfv/stitch/interdomain/rib"
)

// Defaults for zero Config fields.
const (
	DefaultMinBackoff  = time.Second
	DefaultMaxBackoff  = 30 * time.Second
	DefaultDialTimeout = 10 * time.Second
)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("invalid transport configuration")

// Peer configures one neighbour domain.
type Peer struct {
	// Domain is the neighbour's domain id; its OPEN must carry it.
	Domain string
	// ID is the neighbour's libp2p peer ID, derived from its ed25519
	// domain key (see PeerID). Only this ID is accepted for Domain.
	ID peer.ID
	// Addrs are where to dial the neighbour (without /p2p/). The side
	// that accepts (see the package documentation) does not need them.
	Addrs []ma.Multiaddr
	// Export, MaxRoutes and MRAI are the fsm.PeerConfig fields.
	Export    rib.ExportPolicy
	MaxRoutes int
	MRAI      time.Duration
}

// Config configures a Node.
type Config struct {
	// Domain is the local domain id.
	Domain string
	// Key is the domain's identity: the libp2p host key and the key that
	// signs the routes the domain originates.
	Key ed25519.PrivateKey
	// Listen lists the addresses to listen on, e.g. /ip4/127.0.0.1/tcp/0.
	// None means the node only dials.
	Listen []ma.Multiaddr
	Peers  []Peer
	// Keys holds the public keys of origin domains that are not
	// neighbours; neighbours' keys come from their peer IDs. It must be
	// safe for concurrent use (a StaticKeys that nobody modifies is):
	// stream readers verify origin signatures in parallel with the loop.
	Keys rib.KeyStore
	// Protocol tunes the protocol (hold time, MRAI, graceful restart,
	// damping, policy...). Its LocalID, Key, Keys and Peers are set from
	// the fields above.
	Protocol fsm.Config
	// Local services announced before any session comes up, so that a
	// restarting domain's first table transfer already holds them.
	Local []fsm.LocalService
	// MinBackoff and MaxBackoff bound the redial back-off.
	MinBackoff, MaxBackoff time.Duration
	// DialTimeout bounds one dial and stream negotiation.
	DialTimeout time.Duration
	// WriteTimeout bounds the write of one frame; a neighbour that does
	// not read for that long loses its stream. The hold time if zero.
	WriteTimeout time.Duration
	// ConnLow and ConnHigh are the connection manager's watermarks
	// (neighbours are protected from trimming); 100 and 400 if zero.
	ConnLow, ConnHigh int
	Logger            *slog.Logger
}

// PeerID returns the libp2p peer ID of a domain's ed25519 key.
func PeerID(pub ed25519.PublicKey) (peer.ID, error) {
	k, err := crypto.UnmarshalEd25519PublicKey(pub)
	if err != nil {
		return "", err
	}
	return peer.IDFromPublicKey(k)
}

// PublicKey returns the ed25519 key embedded in an ed25519 peer ID.
func PublicKey(id peer.ID) (ed25519.PublicKey, error) {
	k, err := id.ExtractPublicKey()
	if err != nil {
		return nil, fmt.Errorf("peer %s: %w", id, err)
	}
	if k.Type() != crypto.Ed25519 {
		return nil, fmt.Errorf("peer %s: key type %v, want ed25519", id, k.Type())
	}
	raw, err := k.Raw()
	if err != nil {
		return nil, err
	}
	return ed25519.PublicKey(raw), nil
}

// keyStore answers with the local and neighbour keys first, then the
// configured ones.
type keyStore struct {
	known map[string]ed25519.PublicKey
	next  rib.KeyStore
}

func (k keyStore) PublicKey(domain string) (ed25519.PublicKey, bool) {
	if p, ok := k.known[domain]; ok {
		return p, true
	}
	if k.next == nil {
		return nil, false
	}
	return k.next.PublicKey(domain)
}

// check validates cfg and fills defaults; it returns the key store.
func (cfg *Config) check() (keyStore, error) {
	ks := keyStore{known: map[string]ed25519.PublicKey{}, next: cfg.Keys}
	if cfg.Domain == "" {
		return ks, fmt.Errorf("%w: empty domain id", ErrConfig)
	}
	if len(cfg.Key) != ed25519.PrivateKeySize {
		return ks, fmt.Errorf("%w: key of %d bytes", ErrConfig, len(cfg.Key))
	}
	ks.known[cfg.Domain] = cfg.Key.Public().(ed25519.PublicKey)
	self, err := PeerID(ks.known[cfg.Domain])
	if err != nil {
		return ks, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	ids := map[peer.ID]bool{}
	for _, p := range cfg.Peers {
		if p.Domain == "" || p.Domain == cfg.Domain || ks.known[p.Domain] != nil {
			return ks, fmt.Errorf("%w: peer domain %q empty, ours or repeated", ErrConfig, p.Domain)
		}
		if p.ID == "" || p.ID == self || ids[p.ID] {
			return ks, fmt.Errorf("%w: peer %q: ID %q empty, ours or repeated", ErrConfig, p.Domain, p.ID)
		}
		ids[p.ID] = true
		pub, err := PublicKey(p.ID)
		if err != nil {
			return ks, fmt.Errorf("%w: peer %q: %v", ErrConfig, p.Domain, err)
		}
		if cfg.Keys != nil {
			if other, ok := cfg.Keys.PublicKey(p.Domain); ok && !bytes.Equal(other, pub) {
				return ks, fmt.Errorf("%w: peer %q: configured key does not match its peer ID", ErrConfig, p.Domain)
			}
		}
		ks.known[p.Domain] = pub
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.MinBackoff)
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = cfg.Protocol.HoldTime
		if cfg.WriteTimeout <= 0 {
			cfg.WriteTimeout = fsm.DefaultHoldTime
		}
	}
	if cfg.ConnLow <= 0 {
		cfg.ConnLow = 100
	}
	if cfg.ConnHigh <= cfg.ConnLow {
		cfg.ConnHigh = max(400, cfg.ConnLow+1)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return ks, nil
}

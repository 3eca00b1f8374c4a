package config

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// InterDomain configures inter-domain service routing: this deployment is
// the domain Domain and exchanges service routes with Peers over libp2p.
//
//	interdomain:
//	  domain: east                      # this domain's id
//	  key-file: interdomain.key         # ed25519 key; relative to state-dir
//	  listen: /ip4/0.0.0.0/tcp/4001     # default /ip4/127.0.0.1/tcp/0
//	  hold-time: 90s                    # 0: 90s; at least 3s
//	  mrai: 5s                          # 0: 5s; negative: no interval
//	  peers:
//	    - domain: west
//	      peer-id: 12D3KooW...          # from west's key
//	      addrs: [/ip4/192.0.2.7/tcp/4001]
//	      export: {services: [complex-service/web-entry], max-slots: 50}
//	      max-routes: 1000
//
// The key file holds the domain's identity, an ed25519 private key in a
// PEM "PRIVATE KEY" (PKCS #8) block. If it does not exist, stitchd creates
// it with a new key and mode 0600; keep it, as peers know the domain by
// the peer id derived from it. The default is interdomain.key in the
// state directory.
type InterDomain struct {
	Domain   string       `json:"domain"`
	KeyFile  string       `json:"key-file,omitempty"`
	Listen   string       `json:"listen,omitempty"`
	Peers    []DomainPeer `json:"peers,omitempty"`
	HoldTime Duration     `json:"hold-time,omitempty"`
	MRAI     Duration     `json:"mrai,omitempty"`
}

// DomainPeer is a neighbour domain.
type DomainPeer struct {
	Domain string `json:"domain"`
	// PeerID is the neighbour's libp2p peer id (of its ed25519 key).
	PeerID string `json:"peer-id"`
	// Addrs are the neighbour's multiaddrs, without /p2p/. Only the side
	// whose peer id sorts lower dials, so the other may leave them out.
	Addrs  []string     `json:"addrs,omitempty"`
	Export DomainExport `json:"export,omitzero"`
	// MaxRoutes is how many routes the peer may announce (0: no limit).
	MaxRoutes int `json:"max-routes,omitempty"`
}

// DomainExport is what a peer is shown: only Services if given, with at
// most MaxSlots free slots per route (0: all).
type DomainExport struct {
	Services []string `json:"services,omitempty"`
	MaxSlots uint32   `json:"max-slots,omitempty"`
}

// DefaultInterDomainListen is the listen address when none is given.
const DefaultInterDomainListen = "/ip4/127.0.0.1/tcp/0"

// ListenAddr returns the configured or default listen multiaddr.
func (d InterDomain) ListenAddr() string {
	if d.Listen == "" {
		return DefaultInterDomainListen
	}
	return d.Listen
}

// KeyPath returns the key file's path: KeyFile, relative to stateDir if
// not absolute, or interdomain.key in stateDir.
func (d InterDomain) KeyPath(stateDir string) string {
	switch {
	case d.KeyFile == "":
		return filepath.Join(stateDir, "interdomain.key")
	case filepath.IsAbs(d.KeyFile):
		return d.KeyFile
	}
	return filepath.Join(stateDir, d.KeyFile)
}

func (d InterDomain) validate() []error {
	var errs []error
	if d.Domain == "" {
		errs = append(errs, errors.New("interdomain.domain: required"))
	} else if len(d.Domain) > 255 {
		errs = append(errs, errors.New("interdomain.domain: longer than 255 bytes"))
	}
	if _, err := ma.NewMultiaddr(d.ListenAddr()); err != nil {
		errs = append(errs, fmt.Errorf("interdomain.listen: %q: %w", d.Listen, err))
	}
	if d.HoldTime != 0 && time.Duration(d.HoldTime) < 3*time.Second {
		errs = append(errs, fmt.Errorf("interdomain.hold-time: %v is below 3s", time.Duration(d.HoldTime)))
	}
	domains, ids := map[string]bool{}, map[string]bool{}
	for i, p := range d.Peers {
		at := fmt.Sprintf("interdomain.peers[%d]", i)
		switch {
		case p.Domain == "":
			errs = append(errs, fmt.Errorf("%s.domain: required", at))
		case p.Domain == d.Domain:
			errs = append(errs, fmt.Errorf("%s.domain: %q is this domain", at, p.Domain))
		case domains[p.Domain]:
			errs = append(errs, fmt.Errorf("%s.domain: duplicate peer domain %q", at, p.Domain))
		}
		domains[p.Domain] = true
		if err := checkPeerID(p.PeerID); err != nil {
			errs = append(errs, fmt.Errorf("%s.peer-id: %w", at, err))
		} else if ids[p.PeerID] {
			errs = append(errs, fmt.Errorf("%s.peer-id: duplicate peer id %q", at, p.PeerID))
		}
		ids[p.PeerID] = true
		for j, a := range p.Addrs {
			m, err := ma.NewMultiaddr(a)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.addrs[%d]: %q: %w", at, j, a, err))
				continue
			}
			if _, err := m.ValueForProtocol(ma.P_P2P); err == nil {
				errs = append(errs, fmt.Errorf("%s.addrs[%d]: %q: leave /p2p/ out (the peer id is peer-id)", at, j, a))
			}
		}
		if p.MaxRoutes < 0 {
			errs = append(errs, fmt.Errorf("%s.max-routes: must not be negative", at))
		}
	}
	return errs
}

func checkPeerID(s string) error {
	if s == "" {
		return errors.New("required")
	}
	id, err := peer.Decode(s)
	if err != nil {
		return fmt.Errorf("%q: %w", s, err)
	}
	k, err := id.ExtractPublicKey()
	if err != nil {
		return fmt.Errorf("%q: %w", s, err)
	}
	if k.Type() != crypto.Ed25519 {
		return fmt.Errorf("%q: not of an ed25519 key", s)
	}
	return nil
}

// LoadOrCreateKey reads an ed25519 private key from a PEM file, creating
// the file (mode 0600, and its directory) with a new key if it does not
// exist.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("key file: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("key file: %w", err)
		}
		err = pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("key file %s: %w", path, err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("key file %s: no PEM PRIVATE KEY block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key file %s: %T is not an ed25519 key", path, k)
	}
	return key, nil
}

package wire

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
)

// SignatureSize is the length of an origin signature.
const SignatureSize = ed25519.SignatureSize

// signingContext separates our signatures from any other use of a domain's
// key: a signature made here can never be replayed as something else.
const signingContext = "stitch/svcroute/1 origin route\x00"

// retractContext separates retraction signatures from route signatures, so
// that neither can pass for the other.
const retractContext = "stitch/svcroute/1 origin retract\x00"

// SigningBytes returns the canonical encoding the origin signs: the context,
// then service, address, port, proto, origin, ingress and epoch, each
// length- or width-prefixed so that no two routes share an encoding.
//
// Only origin-owned fields are signed. Path, Slots and Metric change at every
// hop (prepend, export cap, accumulated cost), so transit domains could not
// keep a signature over them valid; covering them would need a signature per
// hop (as BGPsec does) and per-hop keys. What the origin signature prevents is
// the hijack that matters most: nobody but the origin can bind a service name
// to an address and ingress. Port and proto are signed with the address,
// since redirecting the port is a hijack too. A transit domain can still lie
// about the path, slots or metric of routes through it; that is a trust
// decision expressed by local preference and export policy. The epoch is
// signed so that nobody can revive a retracted route under a newer one.
func SigningBytes(r Route) []byte {
	return appendSigningBytes(make([]byte, 0, 96+len(r.Service)+len(r.Origin)), r)
}

func appendSigningBytes(b []byte, r Route) []byte {
	b = append(b, signingContext...)
	b = appendLV(b, []byte(r.Service))
	b = appendLV(b, r.Address.AsSlice())
	b = binary.BigEndian.AppendUint16(b, r.Port)
	b = append(b, byte(r.Proto))
	b = appendLV(b, []byte(r.Origin))
	b = appendLV(b, r.Ingress.AsSlice())
	b = binary.BigEndian.AppendUint64(b, r.Epoch)
	return b
}

func appendLV(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// Sign sets r.Signature with the origin's private key.
func Sign(r *Route, key ed25519.PrivateKey) error {
	if len(key) != ed25519.PrivateKeySize {
		return fmt.Errorf("sign route %q: private key of %d bytes", r.Service, len(key))
	}
	r.BatchIndex, r.BatchProof = 0, nil
	r.Signature = ed25519.Sign(key, SigningBytes(*r))
	return nil
}

// Verify checks r's signature, alone or of its batch (see SignBatch),
// against the origin's public key. A Verifier does the same and remembers
// the batches it verified.
func Verify(r Route, pub ed25519.PublicKey) error {
	if err := checkSignable(r, pub); err != nil {
		return err
	}
	if r.BatchDepth() > 0 {
		return verifyBatch(r, pub)
	}
	if !ed25519.Verify(pub, SigningBytes(r), r.Signature) {
		return fmt.Errorf("%w: route %q from origin %q", ErrBadSignature, r.Service, r.Origin)
	}
	return nil
}

func checkSignable(r Route, pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: bad public key for %q", ErrBadSignature, r.Origin)
	}
	if len(r.Signature) != SignatureSize {
		return fmt.Errorf("%w: missing signature from %q", ErrBadSignature, r.Origin)
	}
	return nil
}

// RetractionSigningBytes returns what the origin signs for a retraction:
// its own context, then service, origin and epoch.
func RetractionSigningBytes(r Retraction) []byte {
	b := make([]byte, 0, len(retractContext)+12+len(r.Service)+len(r.Origin))
	b = append(b, retractContext...)
	b = appendLV(b, []byte(r.Service))
	b = appendLV(b, []byte(r.Origin))
	b = binary.BigEndian.AppendUint64(b, r.Epoch)
	return b
}

// SignRetraction sets r.Signature with the origin's private key.
func SignRetraction(r *Retraction, key ed25519.PrivateKey) error {
	if len(key) != ed25519.PrivateKeySize {
		return fmt.Errorf("sign retraction %q: private key of %d bytes", r.Service, len(key))
	}
	r.Signature = ed25519.Sign(key, RetractionSigningBytes(*r))
	return nil
}

// VerifyRetraction checks r's signature against the origin's public key.
func VerifyRetraction(r Retraction, pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: bad public key for %q", ErrBadSignature, r.Origin)
	}
	if len(r.Signature) != SignatureSize {
		return fmt.Errorf("%w: unsigned retraction from %q", ErrBadSignature, r.Origin)
	}
	if !ed25519.Verify(pub, RetractionSigningBytes(r), r.Signature) {
		return fmt.Errorf("%w: retraction of %q by %q, epoch %d", ErrBadSignature, r.Service, r.Origin, r.Epoch)
	}
	return nil
}

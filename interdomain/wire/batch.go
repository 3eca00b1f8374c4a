package wire

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"math/bits"
)

// Batch signatures. An origin that announces many routes at once signs them
// as one batch: the leaves of a Merkle tree are the routes' SigningBytes,
// the origin signs the root once, and each route carries the signature, its
// leaf index and the sibling hashes from its leaf to the root (its proof).
// A receiver recomputes the root from the route and its proof — a few
// SHA-256 hashes — and verifies the root's signature once per batch (see
// Verifier). Routes of a batch stay independent: each can be re-exported,
// withdrawn or filtered alone, since it carries its own proof.
//
// A peer that has not announced Capabilities.BatchSignatures cannot verify
// such a route and is never sent one.

// HashSize is the size of a node of a batch's tree.
const HashSize = sha256.Size

// MaxBatchDepth bounds a proof: a batch holds at most 2^MaxBatchDepth
// routes, and a proof at most MaxBatchDepth hashes.
const MaxBatchDepth = 12

// DefaultBatchDepth is the depth SignBatch uses: 128 routes a signature.
// One ed25519 verification (~40 µs) then costs ~0.3 µs a route, and a
// proof 224 bytes, which a RIB keeps with the route: one level more would
// halve the first and add 32 bytes to every route held (at 1,000,000
// routes, the difference between under and over 1 KiB a route).
const DefaultBatchDepth = 7

// batchContext separates batch-root signatures from route and retraction
// signatures.
const batchContext = "stitch/svcroute/1 origin batch\x00"

// Domain separation of the tree's hashes (as RFC 6962 does): a leaf can
// never pass for an inner node, nor padding for either.
const (
	leafPrefix    = 0x00
	nodePrefix    = 0x01
	paddingPrefix = 0x02
)

// BatchDepth is the depth of r's batch tree, or 0 for a route signed alone.
func (r Route) BatchDepth() int { return len(r.BatchProof) / HashSize }

// leafHash hashes r's signed fields, on the stack for usual routes.
func leafHash(r Route) [HashSize]byte {
	var buf [320]byte
	b := append(buf[:0], leafPrefix)
	return sha256.Sum256(appendSigningBytes(b, r))
}

func nodeHash(left, right *[HashSize]byte) [HashSize]byte {
	var buf [1 + 2*HashSize]byte
	buf[0] = nodePrefix
	copy(buf[1:], left[:])
	copy(buf[1+HashSize:], right[:])
	return sha256.Sum256(buf[:])
}

var paddingLeaf = sha256.Sum256([]byte{paddingPrefix})

// batchRoot recomputes the root of r's batch from its leaf and proof.
func batchRoot(r Route) [HashSize]byte {
	h := leafHash(r)
	idx := r.BatchIndex
	for i := 0; i < r.BatchDepth(); i++ {
		var sib [HashSize]byte
		copy(sib[:], r.BatchProof[i*HashSize:])
		if idx&1 == 0 {
			h = nodeHash(&h, &sib)
		} else {
			h = nodeHash(&sib, &h)
		}
		idx >>= 1
	}
	return h
}

// rootSigningBytes is what the origin signs for a batch: the context, the
// depth and the root. The depth is signed so that a proof of another
// length can never reach the same root.
func rootSigningBytes(depth int, root [HashSize]byte) []byte {
	b := make([]byte, 0, len(batchContext)+1+HashSize)
	b = append(b, batchContext...)
	b = append(b, byte(depth))
	return append(b, root[:]...)
}

// SignBatch signs rs in batches of up to 2^DefaultBatchDepth routes, in
// order: each gets the batch's signature, its index and its proof. A batch
// of one route is signed alone (no proof). The routes of a batch share
// their signature's and proofs' backing arrays, which nobody modifies.
func SignBatch(rs []Route, key ed25519.PrivateKey) error {
	if len(key) != ed25519.PrivateKeySize {
		return fmt.Errorf("sign batch: private key of %d bytes", len(key))
	}
	const size = 1 << DefaultBatchDepth
	for lo := 0; lo < len(rs); lo += size {
		batch := rs[lo:min(lo+size, len(rs))]
		if len(batch) == 1 {
			if err := Sign(&batch[0], key); err != nil {
				return err
			}
			continue
		}
		signTree(batch, key)
	}
	return nil
}

// signTree signs 2..2^MaxBatchDepth routes as one tree.
func signTree(rs []Route, key ed25519.PrivateKey) {
	depth := bits.Len(uint(len(rs) - 1))
	// levels[0] are the leaves, padded to a power of two; levels[depth]
	// is the root.
	levels := make([][][HashSize]byte, depth+1)
	levels[0] = make([][HashSize]byte, 1<<depth)
	for i := range levels[0] {
		if i < len(rs) {
			rs[i].BatchProof = nil
			levels[0][i] = leafHash(rs[i])
		} else {
			levels[0][i] = paddingLeaf
		}
	}
	for l := 1; l <= depth; l++ {
		below := levels[l-1]
		levels[l] = make([][HashSize]byte, len(below)/2)
		for i := range levels[l] {
			levels[l][i] = nodeHash(&below[2*i], &below[2*i+1])
		}
	}
	sig := ed25519.Sign(key, rootSigningBytes(depth, levels[depth][0]))
	proofs := make([]byte, len(rs)*depth*HashSize)
	for i := range rs {
		proof := proofs[i*depth*HashSize : (i+1)*depth*HashSize : (i+1)*depth*HashSize]
		idx := i
		for l := 0; l < depth; l++ {
			copy(proof[l*HashSize:], levels[l][idx^1][:])
			idx >>= 1
		}
		rs[i].Signature, rs[i].BatchIndex, rs[i].BatchProof = sig, uint32(i), proof
	}
}

// verifyBatch checks a batch-signed route without a cache.
func verifyBatch(r Route, pub ed25519.PublicKey) error {
	return checkRoot(r, pub, batchRoot(r))
}

// checkRoot checks that r's signature is pub's over root, r's batch root.
func checkRoot(r Route, pub ed25519.PublicKey, root [HashSize]byte) error {
	if !ed25519.Verify(pub, rootSigningBytes(r.BatchDepth(), root), r.Signature) {
		return badBatch(r)
	}
	return nil
}

func badBatch(r Route) error {
	return fmt.Errorf("%w: route %q from origin %q (batch)", ErrBadSignature, r.Service, r.Origin)
}

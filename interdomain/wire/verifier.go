package wire

import (
	"crypto/ed25519"
	"sync"
)

// Verifier verifies origin signatures like Verify, and remembers the
// outcome for batch roots, so that the routes of one batch cost one
// ed25519 verification together (plus their proofs' hashes each). Failures
// are remembered too: a peer repeating a forged root gains nothing. It is
// safe for concurrent use.
type Verifier struct {
	mu    sync.Mutex
	roots map[rootKey]bool
	max   int
	stats VerifierStats
}

// VerifierStats counts a Verifier's batch-root checks.
type VerifierStats struct {
	// Verified counts ed25519 verifications of batch roots; Remembered
	// the batch routes whose root's outcome was already known.
	Verified, Remembered uint64
}

// Stats returns the counters so far.
func (v *Verifier) Stats() VerifierStats {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.stats
}

// rootKey names a batch root's signature check: the same root and
// signature against the same key always verify the same way.
type rootKey struct {
	pub   [ed25519.PublicKeySize]byte
	root  [HashSize]byte
	sig   [SignatureSize]byte
	depth uint8
}

// NewVerifier returns a Verifier that remembers up to max roots (forgetting
// all of them when full: a batch is verified again at worst).
func NewVerifier(max int) *Verifier {
	return &Verifier{roots: map[rootKey]bool{}, max: max}
}

// Verify checks r's signature against pub; see the package's Verify.
func (v *Verifier) Verify(r Route, pub ed25519.PublicKey) error {
	if r.BatchDepth() == 0 || v == nil {
		return Verify(r, pub)
	}
	if err := checkSignable(r, pub); err != nil {
		return err
	}
	return v.verifyRoot(r, pub, batchRoot(r))
}

// verifyRoot checks that r's signature is pub's over root, r's batch root.
func (v *Verifier) verifyRoot(r Route, pub ed25519.PublicKey, root [HashSize]byte) error {
	if v == nil {
		return checkRoot(r, pub, root)
	}
	k := rootKey{root: root, depth: uint8(r.BatchDepth())}
	copy(k.pub[:], pub)
	copy(k.sig[:], r.Signature)
	v.mu.Lock()
	ok, known := v.roots[k]
	if known {
		v.stats.Remembered++
	}
	v.mu.Unlock()
	if !known {
		ok = checkRoot(r, pub, root) == nil
		v.mu.Lock()
		if len(v.roots) >= v.max {
			clear(v.roots)
		}
		v.roots[k] = ok
		v.stats.Verified++
		v.mu.Unlock()
	}
	if !ok {
		return badBatch(r)
	}
	return nil
}

// Run verifies a run of routes on one goroutine, as they come in an
// UPDATE. The routes of a batch arrive together and in order, and
// neighbouring leaves share most of their path to the root: a route whose
// path meets the last verified route's (at a node of that path, or at one
// of its proof's siblings, all under a root already verified) costs its
// leaf's hash and the hashes up to that meeting point, usually one or two,
// instead of the whole proof. Anything else goes to the Verifier.
type Run struct {
	v    *Verifier
	last lastRoute
}

// lastRoute is the last batch route a Run verified: the nodes of its path
// (path[0] its leaf, path[depth] the root) and its proof's siblings, all
// known to be under a root pub signed with sig.
type lastRoute struct {
	ok    bool
	pub   [ed25519.PublicKeySize]byte
	sig   [SignatureSize]byte
	depth int
	index uint32
	path  [MaxBatchDepth + 1][HashSize]byte
	proof []byte
}

// Run returns a Run on v (which may be nil: batches are then verified
// without remembering their roots).
func (v *Verifier) Run() *Run { return &Run{v: v} }

// Verify checks r's signature against pub, as Verifier.Verify does.
func (run *Run) Verify(r Route, pub ed25519.PublicKey) error {
	d := r.BatchDepth()
	if d == 0 || checkSignable(r, pub) != nil {
		return run.v.Verify(r, pub)
	}
	l := &run.last
	same := l.ok && l.depth == d && string(l.pub[:]) == string(pub) && string(l.sig[:]) == string(r.Signature)
	var path [MaxBatchDepth + 1][HashSize]byte
	path[0] = leafHash(r)
	idx := r.BatchIndex
	for lvl := 0; ; lvl++ {
		if same && run.meets(r, &path[lvl], lvl) {
			run.remember(r, pub, &path, lvl)
			return nil
		}
		if lvl == d {
			break
		}
		var sib [HashSize]byte
		copy(sib[:], r.BatchProof[lvl*HashSize:])
		if (idx>>lvl)&1 == 0 {
			path[lvl+1] = nodeHash(&path[lvl], &sib)
		} else {
			path[lvl+1] = nodeHash(&sib, &path[lvl])
		}
	}
	if err := run.v.verifyRoot(r, pub, path[d]); err != nil {
		return err
	}
	run.remember(r, pub, &path, d)
	return nil
}

// meets reports whether node, r's node at level lvl, is a node of the last
// route's verified path or one of its siblings, at the same position, and
// r's proof above it is the last route's: then r, as carried, is under the
// same root. (Its proof below lvl made node, so it is right too.)
func (run *Run) meets(r Route, node *[HashSize]byte, lvl int) bool {
	l := &run.last
	at, lastAt := r.BatchIndex>>lvl, l.index>>lvl
	above := r.BatchProof[min((lvl+1)*HashSize, len(r.BatchProof)):]
	lastAbove := l.proof[min((lvl+1)*HashSize, len(l.proof)):]
	switch {
	case at == lastAt:
		return *node == l.path[lvl] && string(r.BatchProof[lvl*HashSize:]) == string(l.proof[lvl*HashSize:])
	case at == lastAt^1:
		return string(node[:]) == string(l.proof[lvl*HashSize:(lvl+1)*HashSize]) &&
			string(r.BatchProof[lvl*HashSize:(lvl+1)*HashSize]) == string(l.path[lvl][:]) &&
			string(above) == string(lastAbove)
	}
	return false
}

// remember makes r, verified, the last route: its path is known up to
// level upTo, and above it is the last route's path (they met there).
func (run *Run) remember(r Route, pub ed25519.PublicKey, path *[MaxBatchDepth + 1][HashSize]byte, upTo int) {
	l := &run.last
	d := r.BatchDepth()
	if l.ok && upTo < d {
		// Above the meeting point the two paths are the same nodes.
		copy(path[upTo+1:d+1], l.path[upTo+1:d+1])
	}
	l.ok, l.depth, l.index, l.path, l.proof = true, d, r.BatchIndex, *path, r.BatchProof
	copy(l.pub[:], pub)
	copy(l.sig[:], r.Signature)
}

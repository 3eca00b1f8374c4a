package sim

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/stitchnfv/stitch/interdomain/rib"
)

// Link joins two domains with a one-way latency.
type Link struct {
	A, B    string
	Latency time.Duration
}

// Topology is a set of domains and links.
type Topology struct {
	Nodes []string
	Links []Link
}

// NodeID names the i-th domain of generated topologies.
func NodeID(i int) string { return fmt.Sprintf("d%03d", i) }

// Line returns n domains in a line, d000 – d001 – … .
func Line(n int, latency time.Duration) Topology {
	t := Topology{}
	for i := range n {
		t.Nodes = append(t.Nodes, NodeID(i))
		if i > 0 {
			t.Links = append(t.Links, Link{NodeID(i - 1), NodeID(i), latency})
		}
	}
	return t
}

// Ring returns a line of n domains whose ends are linked.
func Ring(n int, latency time.Duration) Topology {
	t := Line(n, latency)
	t.Links = append(t.Links, Link{NodeID(n - 1), NodeID(0), latency})
	return t
}

// FullMesh links every pair of n domains.
func FullMesh(n int, latency time.Duration) Topology {
	t := Topology{}
	for i := range n {
		t.Nodes = append(t.Nodes, NodeID(i))
		for j := range i {
			t.Links = append(t.Links, Link{NodeID(j), NodeID(i), latency})
		}
	}
	return t
}

// Random returns a connected random graph of n domains with average degree
// about degree: a random spanning tree plus random extra links, latencies
// drawn between minLat and maxLat. The same seed gives the same graph.
func Random(n, degree int, minLat, maxLat time.Duration, seed uint64) Topology {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	lat := func() time.Duration {
		return minLat + time.Duration(rng.Int64N(int64(maxLat-minLat)+1))
	}
	t := Topology{}
	linked := map[[2]int]bool{}
	add := func(a, b int) bool {
		if a == b || linked[[2]int{min(a, b), max(a, b)}] {
			return false
		}
		linked[[2]int{min(a, b), max(a, b)}] = true
		t.Links = append(t.Links, Link{NodeID(a), NodeID(b), lat()})
		return true
	}
	for i := range n {
		t.Nodes = append(t.Nodes, NodeID(i))
		if i > 0 {
			add(i, rng.IntN(i))
		}
	}
	for want := n * degree / 2; len(t.Links) < want; {
		add(rng.IntN(n), rng.IntN(n))
	}
	return t
}

// Key derives a domain's signing key from its id. Deterministic keys make
// simulations reproducible; they are for simulation only.
func Key(id string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("stitch sim key " + id))
	return ed25519.NewKeyFromSeed(seed[:])
}

// Keys returns the public keys of ids, as every domain is configured with.
func Keys(ids []string) rib.StaticKeys {
	k := rib.StaticKeys{}
	for _, id := range ids {
		k[id] = Key(id).Public().(ed25519.PublicKey)
	}
	return k
}

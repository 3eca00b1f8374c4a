package wire

import (
	"fmt"
	"net/netip"
	"slices"
	"unicode/utf8"
)

// Limits on route fields. They bound the size of one route so that an
// UPDATE can be split into frames below MaxMessageSize.
const (
	MaxServiceLen  = 253 // a DNS name
	MaxDomainIDLen = 128
	MaxPathLen     = 64
	MaxTextLen     = 1024
)

// Proto is the IP protocol number of a service's port.
type Proto uint8

// Supported transport protocols.
const (
	TCP  Proto = 6
	UDP  Proto = 17
	SCTP Proto = 132
)

func (p Proto) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case SCTP:
		return "sctp"
	}
	return fmt.Sprintf("proto(%d)", uint8(p))
}

// Route says: Service, at anycast Address:Port/Proto, originated by Origin,
// is reachable through the domains of Path. A peer announces at most one
// route per service (its best), as a BGP speaker does per prefix, so a
// withdrawal names only the service.
type Route struct {
	Service string
	Address netip.Addr
	Port    uint16
	Proto   Proto
	// BatchIndex and BatchProof are set when the origin signed the route
	// in a batch (SignBatch): Signature is then over the batch's root,
	// reached from the route through the BatchProof's sibling hashes,
	// bottom up, turning left or right as BatchIndex's bits say. (The
	// index sits here, next to Port and Proto, to keep the struct small:
	// a RIB holds several copies per service.)
	BatchIndex uint32
	Origin     string
	// Path lists the domains to cross, nearest first and Origin last. Each
	// domain prepends its own id when it exports the route.
	Path []string
	// Slots is the number of free session slots as the sender chose to
	// reveal them (it may show fewer than it has).
	Slots uint32
	// Metric is a latency/cost that each domain increases on export.
	Metric uint32
	// Ingress is the address of the origin domain's entry point, where
	// traffic for the service is sent.
	Ingress netip.Addr
	// Epoch is set by the origin when it starts originating the service
	// (its clock in nanoseconds, strictly increasing across restarts) and
	// kept across slot and metric updates. It is signed: a Retraction of
	// the same origin and service up to this epoch removes the route
	// everywhere. Zero is a route of an origin that never retracts.
	Epoch      uint64
	Signature  []byte
	BatchProof []byte
}

// Clone returns a deep copy, so that a RIB can keep a route while the sender
// reuses its slices.
func (r Route) Clone() Route {
	r.Path = slices.Clone(r.Path)
	r.Signature = slices.Clone(r.Signature)
	r.BatchProof = slices.Clone(r.BatchProof)
	return r
}

// Validate checks the syntax of a route: what decoding enforces and Marshal
// refuses to send. It does not check the signature (see Verify).
func (r Route) Validate() error {
	if r.Service == "" {
		return fmt.Errorf("service: %w", ErrEmptyService)
	}
	if err := checkString(r.Service, MaxServiceLen); err != nil {
		return fmt.Errorf("service: %w", err)
	}
	if err := checkAddr(r.Address); err != nil {
		return fmt.Errorf("address: %w", err)
	}
	if r.Port == 0 {
		return fmt.Errorf("port: %w: zero", ErrInvalid)
	}
	switch r.Proto {
	case TCP, UDP, SCTP:
	default:
		return fmt.Errorf("proto: %w: %d", ErrInvalid, uint8(r.Proto))
	}
	if err := checkDomainID(r.Origin); err != nil {
		return fmt.Errorf("origin: %w", err)
	}
	if len(r.Path) == 0 || len(r.Path) > MaxPathLen {
		return fmt.Errorf("path: %w: length %d not in 1..%d", ErrInvalid, len(r.Path), MaxPathLen)
	}
	for i, d := range r.Path {
		if err := checkDomainID(d); err != nil {
			return fmt.Errorf("path[%d]: %w", i, err)
		}
	}
	// The origin is the last domain; a path that ends elsewhere was
	// tampered with or built wrongly.
	if last := r.Path[len(r.Path)-1]; last != r.Origin {
		return fmt.Errorf("path: %w: ends at %q, origin is %q", ErrInvalid, last, r.Origin)
	}
	if err := checkAddr(r.Ingress); err != nil {
		return fmt.Errorf("ingress: %w", err)
	}
	if n := len(r.Signature); n != 0 && n != SignatureSize {
		return fmt.Errorf("signature: %w: %d bytes", ErrInvalid, n)
	}
	return r.validateBatch()
}

func (r Route) validateBatch() error {
	n := len(r.BatchProof)
	if n%HashSize != 0 || n > MaxBatchDepth*HashSize {
		return fmt.Errorf("batch_proof: %w: %d bytes, want a multiple of %d up to %d", ErrInvalid, n, HashSize, MaxBatchDepth*HashSize)
	}
	if r.BatchIndex >= 1<<r.BatchDepth() {
		return fmt.Errorf("batch_index: %w: %d in a batch of depth %d", ErrInvalid, r.BatchIndex, r.BatchDepth())
	}
	if n > 0 && len(r.Signature) == 0 {
		return fmt.Errorf("batch_proof: %w: without a signature", ErrInvalid)
	}
	return nil
}

// Retraction is an origin's signed statement that it no longer originates
// Service in any epoch up to Epoch: every path with that origin, service and
// an epoch not above Epoch is stale, wherever it came from. A plain
// withdrawal only says that one neighbour lost its path; a retraction lets a
// domain drop its neighbours' alternates too before their own withdrawals
// arrive, so a withdrawal never makes it pick a stale path (path hunting).
type Retraction struct {
	Service    string
	Origin     string
	Epoch      uint64
	Signature  []byte
	BatchProof []byte
}

// Validate checks the syntax of a retraction (not its signature; see
// VerifyRetraction). It must be signed and its epoch non-zero.
func (r Retraction) Validate() error {
	if r.Service == "" {
		return fmt.Errorf("service: %w", ErrEmptyService)
	}
	if err := checkString(r.Service, MaxServiceLen); err != nil {
		return fmt.Errorf("service: %w", err)
	}
	if err := checkDomainID(r.Origin); err != nil {
		return fmt.Errorf("origin: %w", err)
	}
	if r.Epoch == 0 {
		return fmt.Errorf("epoch: %w: zero", ErrInvalid)
	}
	if n := len(r.Signature); n != SignatureSize {
		return fmt.Errorf("signature: %w: %d bytes", ErrInvalid, n)
	}
	return nil
}

// Clone returns a deep copy.
func (r Retraction) Clone() Retraction {
	r.Signature = slices.Clone(r.Signature)
	return r
}

func checkAddr(a netip.Addr) error {
	if !a.IsValid() {
		return fmt.Errorf("%w: missing", ErrBadAddress)
	}
	if a.Zone() != "" {
		// A zone is local to one host; it means nothing in another domain.
		return fmt.Errorf("%w: zone %q", ErrBadAddress, a.Zone())
	}
	if a.IsUnspecified() || a.IsMulticast() {
		return fmt.Errorf("%w: %v", ErrBadAddress, a)
	}
	return nil
}

func checkDomainID(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty domain id", ErrInvalid)
	}
	return checkString(s, MaxDomainIDLen)
}

func checkString(s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%w: %d bytes, max %d", ErrInvalid, len(s), max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: not UTF-8", ErrInvalid)
	}
	return nil
}

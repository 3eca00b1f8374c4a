package wire

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Envelope field numbers.
const (
	envType protowire.Number = 1
	envBody protowire.Number = 2
)

// Marshal encodes m in its envelope. It refuses a message that Unmarshal
// would reject, so that we never send what a peer must refuse.
func Marshal(m Message) ([]byte, error) {
	return AppendMessage(nil, m)
}

// AppendMessage appends the encoding of m to b.
func AppendMessage(b []byte, m Message) ([]byte, error) {
	if err := validate(m); err != nil {
		return b, fmt.Errorf("marshal %v: %w", m.Type(), err)
	}
	return appendEnvelope(b, m, bodyLen(m)), nil
}

// appendEnvelope appends m, valid, whose body is n bytes long. An UPDATE of
// thousands of routes is written straight into b, grown once.
func appendEnvelope(b []byte, m Message, n int) []byte {
	b = slices.Grow(b, envelopeLen(n))
	b = protowire.AppendTag(b, envType, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(m.Type()))
	if n > 0 {
		b = protowire.AppendTag(b, envBody, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(n))
		b = appendBody(b, m)
	}
	return b
}

// envelopeLen is the size of an envelope whose body is n bytes long.
func envelopeLen(n int) int {
	size := protowire.SizeTag(envType) + 1 // message types are one-byte varints
	if n > 0 {
		size += protowire.SizeTag(envBody) + protowire.SizeBytes(n)
	}
	return size
}

// bodyLen is the size of m's body. An UPDATE's is computed; the others are
// small and encoded to be measured.
func bodyLen(m Message) int {
	u, ok := m.(Update)
	if !ok {
		return len(appendBody(nil, m))
	}
	n := 0
	for _, r := range u.Announce {
		n += protowire.SizeTag(1) + protowire.SizeBytes(routeLen(r))
	}
	for _, s := range u.Withdraw {
		n += protowire.SizeTag(2) + protowire.SizeBytes(len(s))
	}
	for _, r := range u.Retract {
		n += RetractionSize(r)
	}
	return n
}

func validate(m Message) error {
	switch m := m.(type) {
	case Open:
		return m.validate()
	case Update:
		return m.validate()
	case Notification:
		return m.validate()
	case Keepalive, RouteRefresh, EndOfRIB:
		return nil
	}
	return fmt.Errorf("%w: %T", ErrUnknownType, m)
}

func (o Open) validate() error {
	if err := checkDomainID(o.DomainID); err != nil {
		return fmt.Errorf("domain_id: %w", err)
	}
	if o.HoldTime < 0 || o.Capabilities.RestartTime < 0 {
		return fmt.Errorf("%w: negative duration", ErrInvalid)
	}
	return nil
}

func (u Update) validate() error {
	for i, r := range u.Announce {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("announce[%d].%w", i, err)
		}
	}
	for i, s := range u.Withdraw {
		if s == "" {
			return fmt.Errorf("withdraw[%d]: %w", i, ErrEmptyService)
		}
		if err := checkString(s, MaxServiceLen); err != nil {
			return fmt.Errorf("withdraw[%d]: %w", i, err)
		}
	}
	for i, r := range u.Retract {
		if err := r.Validate(); err != nil {
			return fmt.Errorf("retract[%d].%w", i, err)
		}
	}
	return nil
}

func (n Notification) validate() error {
	if err := checkString(n.Text, MaxTextLen); err != nil {
		return fmt.Errorf("text: %w", err)
	}
	return nil
}

func appendBody(b []byte, m Message) []byte {
	switch m := m.(type) {
	case Open:
		b = appendUint(b, 1, uint64(m.Version))
		b = appendString(b, 2, m.DomainID)
		b = appendUint(b, 3, uint64(m.HoldTime/time.Millisecond))
		caps := appendBool(nil, 1, m.Capabilities.RouteRefresh)
		caps = appendBool(caps, 2, m.Capabilities.GracefulRestart)
		caps = appendUint(caps, 3, uint64(m.Capabilities.RestartTime/time.Millisecond))
		caps = appendBool(caps, 4, m.Capabilities.BatchSignatures)
		if len(caps) > 0 {
			b = protowire.AppendTag(b, 4, protowire.BytesType)
			b = protowire.AppendBytes(b, caps)
		}
	case Update:
		for _, r := range m.Announce {
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			b = protowire.AppendVarint(b, uint64(routeLen(r)))
			b = appendRoute(b, r)
		}
		for _, s := range m.Withdraw {
			b = protowire.AppendTag(b, 2, protowire.BytesType)
			b = protowire.AppendString(b, s)
		}
		for _, r := range m.Retract {
			b = protowire.AppendTag(b, 3, protowire.BytesType)
			b = protowire.AppendBytes(b, appendRetraction(nil, r))
		}
	case Notification:
		b = appendUint(b, 1, uint64(m.Code))
		b = appendUint(b, 2, uint64(m.Subcode))
		b = appendString(b, 3, m.Text)
	}
	return b
}

func appendRoute(b []byte, r Route) []byte {
	b = appendString(b, 1, r.Service)
	b = appendAddr(b, 2, r.Address)
	b = appendUint(b, 3, uint64(r.Port))
	b = appendUint(b, 4, uint64(r.Proto))
	b = appendString(b, 5, r.Origin)
	for _, d := range r.Path {
		b = protowire.AppendTag(b, 6, protowire.BytesType)
		b = protowire.AppendString(b, d)
	}
	b = appendUint(b, 7, uint64(r.Slots))
	b = appendUint(b, 8, uint64(r.Metric))
	b = appendAddr(b, 9, r.Ingress)
	if len(r.Signature) > 0 {
		b = protowire.AppendTag(b, 10, protowire.BytesType)
		b = protowire.AppendBytes(b, r.Signature)
	}
	b = appendUint(b, 11, r.Epoch)
	b = appendUint(b, 12, uint64(r.BatchIndex))
	if len(r.BatchProof) > 0 {
		b = protowire.AppendTag(b, 13, protowire.BytesType)
		b = protowire.AppendBytes(b, r.BatchProof)
	}
	return b
}

func appendRetraction(b []byte, r Retraction) []byte {
	b = appendString(b, 1, r.Service)
	b = appendString(b, 2, r.Origin)
	b = appendUint(b, 3, r.Epoch)
	if len(r.Signature) > 0 {
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendBytes(b, r.Signature)
	}
	return b
}

// RetractionSize is the encoded size of r inside an UPDATE.
func RetractionSize(r Retraction) int {
	n := len(appendRetraction(nil, r))
	return protowire.SizeTag(3) + protowire.SizeBytes(n)
}

// RouteSize is the encoded size of r inside an UPDATE, used to split large
// updates into frames.
func RouteSize(r Route) int {
	return protowire.SizeTag(1) + protowire.SizeBytes(routeLen(r))
}

// routeLen is the size of appendRoute's encoding of r, computed.
func routeLen(r Route) int {
	n := stringLen(1, r.Service) + addrLen(2, r.Address) + uintLen(3, uint64(r.Port)) +
		uintLen(4, uint64(r.Proto)) + stringLen(5, r.Origin)
	for _, d := range r.Path {
		n += protowire.SizeTag(6) + protowire.SizeBytes(len(d))
	}
	n += uintLen(7, uint64(r.Slots)) + uintLen(8, uint64(r.Metric)) + addrLen(9, r.Ingress) +
		bytesLen(10, len(r.Signature)) + uintLen(11, r.Epoch) + uintLen(12, uint64(r.BatchIndex)) +
		bytesLen(13, len(r.BatchProof))
	return n
}

// The sizes of what appendUint, appendString and appendAddr append.
func uintLen(num protowire.Number, v uint64) int {
	if v == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeVarint(v)
}

func stringLen(num protowire.Number, s string) int { return bytesLen(num, len(s)) }

// bytesLen is the size of a bytes field of n bytes, omitted if empty.
func bytesLen(num protowire.Number, n int) int {
	if n == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(n)
}

func addrLen(num protowire.Number, a netip.Addr) int {
	if !a.IsValid() {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(a.BitLen()/8)
}

// Proto3 omits zero scalars and empty strings; we do the same so the
// encoding is the one any protobuf library would produce.
func appendUint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendBool(b []byte, num protowire.Number, v bool) []byte {
	return appendUint(b, num, protowire.EncodeBool(v))
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendAddr(b []byte, num protowire.Number, a netip.Addr) []byte {
	if !a.IsValid() {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, a.AsSlice())
}

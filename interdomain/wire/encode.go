package wire

import (
	"fmt"
	"net/netip"
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
	body := appendBody(nil, m)
	b = protowire.AppendTag(b, envType, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(m.Type()))
	if len(body) > 0 {
		b = protowire.AppendTag(b, envBody, protowire.BytesType)
		b = protowire.AppendBytes(b, body)
	}
	return b, nil
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
		if len(caps) > 0 {
			b = protowire.AppendTag(b, 4, protowire.BytesType)
			b = protowire.AppendBytes(b, caps)
		}
	case Update:
		for _, r := range m.Announce {
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			b = protowire.AppendBytes(b, appendRoute(nil, r))
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
	// Encoded on the stack: SplitUpdate sizes every route it sends, and a
	// route of the usual size fits.
	var buf [512]byte
	n := len(appendRoute(buf[:0], r))
	return protowire.SizeTag(1) + protowire.SizeBytes(n)
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

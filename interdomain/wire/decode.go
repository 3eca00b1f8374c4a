package wire

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Unmarshal decodes one envelope. Any error wraps one of the Err* values of
// this package and names the offending field. The message does not keep b.
func Unmarshal(b []byte) (Message, error) {
	return unmarshal(b, false)
}

// unmarshal is Unmarshal; if owned, b is the caller's to give away and
// the message's byte fields (signatures, proofs) may alias it instead of
// being copied.
func unmarshal(b []byte, owned bool) (Message, error) {
	var (
		typ     uint64
		seen    bool
		body    []byte
		hasBody bool
	)
	err := walk(b, func(f field) error {
		switch f.num {
		case envType:
			if err := f.want(protowire.VarintType); err != nil {
				return fmt.Errorf("envelope.type: %w", err)
			}
			typ, seen = f.v, true
		case envBody:
			if err := f.want(protowire.BytesType); err != nil {
				return fmt.Errorf("envelope.body: %w", err)
			}
			body, hasBody = f.b, true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !seen {
		return nil, fmt.Errorf("envelope.type: %w: missing", ErrUnknownType)
	}
	switch Type(typ) {
	case TypeOpen:
		return decodeOpen(body)
	case TypeUpdate:
		return decodeUpdate(body, owned)
	case TypeNotification:
		return decodeNotification(body)
	case TypeKeepalive, TypeRouteRefresh, TypeEndOfRIB:
		// Bodies of empty messages may carry fields of a later version;
		// they are skipped like unknown fields, but must still parse.
		if hasBody {
			if err := walk(body, func(field) error { return nil }); err != nil {
				return nil, fmt.Errorf("%v: %w", Type(typ), err)
			}
		}
		switch Type(typ) {
		case TypeKeepalive:
			return Keepalive{}, nil
		case TypeRouteRefresh:
			return RouteRefresh{}, nil
		}
		return EndOfRIB{}, nil
	}
	return nil, fmt.Errorf("envelope.type: %w: %d", ErrUnknownType, typ)
}

func decodeOpen(b []byte) (Message, error) {
	var o Open
	err := walk(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			o.Version, err = f.uint32()
		case 2:
			o.DomainID, err = f.string()
		case 3:
			o.HoldTime, err = f.millis()
		case 4:
			if err = f.want(protowire.BytesType); err == nil {
				o.Capabilities, err = decodeCaps(f.b)
			}
		}
		if err != nil {
			return fmt.Errorf("field %d: %w", f.num, err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open.%w", err)
	}
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("open.%w", err)
	}
	return o, nil
}

func decodeCaps(b []byte) (Capabilities, error) {
	var c Capabilities
	err := walk(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			c.RouteRefresh, err = f.bool()
		case 2:
			c.GracefulRestart, err = f.bool()
		case 3:
			c.RestartTime, err = f.millis()
		case 4:
			c.BatchSignatures, err = f.bool()
		}
		if err != nil {
			return fmt.Errorf("capabilities field %d: %w", f.num, err)
		}
		return nil
	})
	return c, err
}

func decodeUpdate(b []byte, owned bool) (Message, error) {
	var u Update
	// Counted first, so that a table's UPDATE fills slices of the right
	// size instead of growing them route by route.
	var counts [4]int
	if err := walk(b, func(f field) error {
		if f.num >= 1 && f.num <= 3 {
			counts[f.num]++
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("update.%w", err)
	}
	if counts[1] > 0 {
		u.Announce = make([]Route, 0, counts[1])
	}
	if counts[2] > 0 {
		u.Withdraw = make([]string, 0, counts[2])
	}
	if counts[3] > 0 {
		u.Retract = make([]Retraction, 0, counts[3])
	}
	d := routeDecoder{owned: owned}
	err := walk(b, func(f field) error {
		switch f.num {
		case 1:
			if err := f.want(protowire.BytesType); err != nil {
				return fmt.Errorf("announce[%d]: %w", len(u.Announce), err)
			}
			r, err := d.decode(f.b)
			if err != nil {
				return fmt.Errorf("announce[%d].%w", len(u.Announce), err)
			}
			u.Announce = append(u.Announce, r)
		case 2:
			s, err := f.string()
			if err != nil {
				return fmt.Errorf("withdraw[%d]: %w", len(u.Withdraw), err)
			}
			u.Withdraw = append(u.Withdraw, s)
		case 3:
			if err := f.want(protowire.BytesType); err != nil {
				return fmt.Errorf("retract[%d]: %w", len(u.Retract), err)
			}
			r, err := decodeRetraction(f.b)
			if err != nil {
				return fmt.Errorf("retract[%d].%w", len(u.Retract), err)
			}
			u.Retract = append(u.Retract, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update.%w", err)
	}
	if err := u.validate(); err != nil {
		return nil, fmt.Errorf("update.%w", err)
	}
	return u, nil
}

// routeDecoder decodes the routes of one UPDATE. Their origin and path are
// usually those of the previous route (a table from one origin), and are
// then shared with it rather than allocated again: decoded routes' paths
// are never modified in place. If owned, signatures and proofs alias the
// frame.
type routeDecoder struct {
	owned  bool
	origin string
	path   []string
}

func (d *routeDecoder) decode(b []byte) (Route, error) {
	var (
		r       Route
		pathBuf [8][]byte
	)
	path := pathBuf[:0]
	err := walk(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			r.Service, err = f.string()
		case 2:
			r.Address, err = f.addr()
		case 3:
			var v uint32
			if v, err = f.uint32(); err == nil {
				if v > math.MaxUint16 {
					err = fmt.Errorf("%w: port %d", ErrInvalid, v)
				}
				r.Port = uint16(v)
			}
		case 4:
			var v uint32
			if v, err = f.uint32(); err == nil {
				if v > math.MaxUint8 {
					err = fmt.Errorf("%w: proto %d", ErrInvalid, v)
				}
				r.Proto = Proto(v)
			}
		case 5:
			if err = f.want(protowire.BytesType); err == nil {
				r.Origin = d.intern(f.b)
			}
		case 6:
			if err = f.want(protowire.BytesType); err == nil {
				if len(path) >= MaxPathLen {
					err = fmt.Errorf("%w: path longer than %d", ErrInvalid, MaxPathLen)
				}
				path = append(path, f.b)
			}
		case 7:
			r.Slots, err = f.uint32()
		case 8:
			r.Metric, err = f.uint32()
		case 9:
			r.Ingress, err = f.addr()
		case 10:
			if err = f.want(protowire.BytesType); err == nil {
				r.Signature = d.bytes(f.b)
			}
		case 11:
			if err = f.want(protowire.VarintType); err == nil {
				r.Epoch = f.v
			}
		case 12:
			r.BatchIndex, err = f.uint32()
		case 13:
			if err = f.want(protowire.BytesType); err == nil {
				r.BatchProof = d.bytes(f.b)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", routeFieldName(f.num), err)
		}
		return nil
	})
	if err != nil {
		return Route{}, err
	}
	r.Path = d.sharedPath(path)
	if err := r.Validate(); err != nil {
		return Route{}, err
	}
	return r, nil
}

// intern returns b as a string, the last origin's if equal.
func (d *routeDecoder) intern(b []byte) string {
	if string(b) != d.origin {
		d.origin = string(b)
	}
	return d.origin
}

// sharedPath returns raw as a path, the last route's if equal.
func (d *routeDecoder) sharedPath(raw [][]byte) []string {
	if len(raw) == 0 {
		return nil
	}
	if len(raw) == len(d.path) {
		same := true
		for i, e := range raw {
			if string(e) != d.path[i] {
				same = false
				break
			}
		}
		if same {
			return d.path
		}
	}
	p := make([]string, len(raw))
	for i, e := range raw {
		p[i] = string(e)
	}
	d.path = p[:len(p):len(p)]
	return d.path
}

// bytes returns b, aliased if the frame is ours, else copied.
func (d *routeDecoder) bytes(b []byte) []byte {
	if d.owned {
		return b[:len(b):len(b)]
	}
	return append([]byte(nil), b...)
}

func routeFieldName(n protowire.Number) string {
	names := [...]string{"", "service", "address", "port", "proto", "origin", "path", "slots", "metric", "ingress", "signature", "epoch", "batch_index", "batch_proof"}
	if int(n) < len(names) {
		return names[n]
	}
	return fmt.Sprintf("field %d", n)
}

func decodeRetraction(b []byte) (Retraction, error) {
	var r Retraction
	err := walk(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			r.Service, err = f.string()
		case 2:
			r.Origin, err = f.string()
		case 3:
			if err = f.want(protowire.VarintType); err == nil {
				r.Epoch = f.v
			}
		case 4:
			if err = f.want(protowire.BytesType); err == nil {
				r.Signature = append([]byte(nil), f.b...)
			}
		}
		if err != nil {
			names := [...]string{"", "service", "origin", "epoch", "signature"}
			if int(f.num) < len(names) {
				return fmt.Errorf("%s: %w", names[f.num], err)
			}
			return fmt.Errorf("field %d: %w", f.num, err)
		}
		return nil
	})
	if err != nil {
		return Retraction{}, err
	}
	if err := r.Validate(); err != nil {
		return Retraction{}, err
	}
	return r, nil
}

func decodeNotification(b []byte) (Message, error) {
	var n Notification
	err := walk(b, func(f field) error {
		switch f.num {
		case 1, 2:
			v, err := f.uint32()
			if err == nil && v > math.MaxUint8 {
				err = fmt.Errorf("%w: %d", ErrInvalid, v)
			}
			if err != nil {
				return fmt.Errorf("field %d: %w", f.num, err)
			}
			if f.num == 1 {
				n.Code = NotifyCode(v)
			} else {
				n.Subcode = uint8(v)
			}
		case 3:
			s, err := f.string()
			if err != nil {
				return fmt.Errorf("text: %w", err)
			}
			n.Text = s
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("notification.%w", err)
	}
	if err := n.validate(); err != nil {
		return nil, fmt.Errorf("notification.%w", err)
	}
	return n, nil
}

// field is one decoded protobuf field: v for varints, b for bytes.
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64
	b   []byte
}

// walk calls fn for every field of b. Fields of unknown numbers reach fn too;
// fn ignores them, which is protobuf's forward compatibility.
func walk(b []byte, fn func(field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return parseErr(n)
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return parseErr(n)
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func parseErr(n int) error {
	err := protowire.ParseError(n)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTruncated
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

func (f field) want(t protowire.Type) error {
	if f.typ != t {
		return fmt.Errorf("%w: wire type %d, want %d", ErrMalformed, f.typ, t)
	}
	return nil
}

func (f field) uint32() (uint32, error) {
	if err := f.want(protowire.VarintType); err != nil {
		return 0, err
	}
	if f.v > math.MaxUint32 {
		return 0, fmt.Errorf("%w: %d overflows uint32", ErrInvalid, f.v)
	}
	return uint32(f.v), nil
}

func (f field) bool() (bool, error) {
	if err := f.want(protowire.VarintType); err != nil {
		return false, err
	}
	return protowire.DecodeBool(f.v), nil
}

// maxMillis keeps durations far from overflowing time.Duration.
const maxMillis = uint64(math.MaxInt64 / int64(time.Millisecond))

func (f field) millis() (time.Duration, error) {
	if err := f.want(protowire.VarintType); err != nil {
		return 0, err
	}
	if f.v > maxMillis {
		return 0, fmt.Errorf("%w: duration %d ms", ErrInvalid, f.v)
	}
	return time.Duration(f.v) * time.Millisecond, nil
}

func (f field) string() (string, error) {
	if err := f.want(protowire.BytesType); err != nil {
		return "", err
	}
	return string(f.b), nil
}

func (f field) addr() (netip.Addr, error) {
	if err := f.want(protowire.BytesType); err != nil {
		return netip.Addr{}, err
	}
	a, ok := netip.AddrFromSlice(f.b)
	if !ok {
		return netip.Addr{}, fmt.Errorf("%w: %d bytes", ErrBadAddress, len(f.b))
	}
	return a, nil
}

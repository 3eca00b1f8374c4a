package gnmi

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stitchnfv/stitch/telemetry"
)

// fullPath joins a request prefix and a path into a tree pattern. Errors are
// InvalidArgument statuses ready to return.
func fullPath(prefix, p *gpb.Path) (telemetry.Path, error) {
	var out telemetry.Path
	for _, part := range []*gpb.Path{prefix, p} {
		if part == nil {
			continue
		}
		switch part.GetOrigin() {
		case "", "openconfig":
		default:
			return nil, status.Errorf(codes.InvalidArgument, "unsupported origin %q", part.GetOrigin())
		}
		for _, e := range part.GetElem() {
			out = append(out, telemetry.Elem{Name: e.GetName(), Keys: e.GetKey()})
		}
		// Older clients (gnmi_cli among them) also fill the deprecated
		// string elements; elem wins when both are present.
		if len(part.GetElem()) == 0 {
			for _, s := range part.GetElement() {
				e, err := telemetry.ParsePath(s)
				if err != nil || len(e) != 1 {
					return nil, status.Errorf(codes.InvalidArgument, "bad path element %q", s)
				}
				out = append(out, e[0])
			}
		}
	}
	if err := out.Validate(); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "bad path %s: %v", out, err)
	}
	return out, nil
}

// toPath converts a tree path. Key maps are shared, not copied: leaf paths in
// the tree are never mutated, and the result is only marshalled.
func toPath(p telemetry.Path) *gpb.Path {
	elems := make([]*gpb.PathElem, len(p))
	for i, e := range p {
		elems[i] = &gpb.PathElem{Name: e.Name, Key: e.Keys}
	}
	return &gpb.Path{Elem: elems}
}

// scalar maps a value to its gNMI scalar TypedValue.
func scalar(v telemetry.Value) *gpb.TypedValue {
	switch v.Kind() {
	case telemetry.KindInt:
		return &gpb.TypedValue{Value: &gpb.TypedValue_IntVal{IntVal: v.IntValue()}}
	case telemetry.KindUint:
		return &gpb.TypedValue{Value: &gpb.TypedValue_UintVal{UintVal: v.UintValue()}}
	case telemetry.KindFloat:
		return &gpb.TypedValue{Value: &gpb.TypedValue_DoubleVal{DoubleVal: v.FloatValue()}}
	case telemetry.KindString:
		return &gpb.TypedValue{Value: &gpb.TypedValue_StringVal{StringVal: v.StringValue()}}
	case telemetry.KindBool:
		return &gpb.TypedValue{Value: &gpb.TypedValue_BoolVal{BoolVal: v.BoolValue()}}
	}
	return nil
}

// encode maps a value for Get's requested encoding.
func encode(v telemetry.Value, enc gpb.Encoding) (*gpb.TypedValue, error) {
	switch enc {
	case gpb.Encoding_PROTO:
		return scalar(v), nil
	case gpb.Encoding_JSON, gpb.Encoding_JSON_IETF:
		x := v.Interface()
		// RFC 7951 section 6.1: int64/uint64 are JSON strings so that
		// JavaScript-style parsers keep every digit.
		if enc == gpb.Encoding_JSON_IETF {
			switch v.Kind() {
			case telemetry.KindInt:
				x = strconv.FormatInt(v.IntValue(), 10)
			case telemetry.KindUint:
				x = strconv.FormatUint(v.UintValue(), 10)
			}
		}
		b, err := json.Marshal(x)
		if err != nil {
			return nil, fmt.Errorf("encode %v as JSON: %w", v, err)
		}
		if enc == gpb.Encoding_JSON {
			return &gpb.TypedValue{Value: &gpb.TypedValue_JsonVal{JsonVal: b}}, nil
		}
		return &gpb.TypedValue{Value: &gpb.TypedValue_JsonIetfVal{JsonIetfVal: b}}, nil
	}
	return nil, status.Errorf(codes.Unimplemented, "encoding %v is not supported (use JSON, JSON_IETF or PROTO)", enc)
}

func checkEncoding(enc gpb.Encoding) error {
	switch enc {
	case gpb.Encoding_JSON, gpb.Encoding_JSON_IETF, gpb.Encoding_PROTO:
		return nil
	}
	return status.Errorf(codes.Unimplemented, "encoding %v is not supported (use JSON, JSON_IETF or PROTO)", enc)
}

// batcher turns leaf changes into notifications, one per run of equal
// timestamps, because a Notification carries a single timestamp.
type batcher struct {
	prefix *gpb.Path
	out    []*gpb.Notification
	cur    *gpb.Notification
}

func (b *batcher) notification(ts time.Time) *gpb.Notification {
	n := ts.UnixNano()
	if b.cur == nil || b.cur.Timestamp != n {
		b.cur = &gpb.Notification{Timestamp: n, Prefix: b.prefix}
		b.out = append(b.out, b.cur)
	}
	return b.cur
}

func (b *batcher) update(l telemetry.Leaf, val *gpb.TypedValue, dups uint32) {
	n := b.notification(l.Timestamp)
	n.Update = append(n.Update, &gpb.Update{Path: toPath(l.Path), Val: val, Duplicates: dups})
}

func (b *batcher) delete(l telemetry.Leaf) {
	n := b.notification(l.Timestamp)
	n.Delete = append(n.Delete, toPath(l.Path))
}

// responsePrefix echoes the request's target and origin, as the
// specification asks, without elements: update paths are absolute.
func responsePrefix(req *gpb.Path) *gpb.Path {
	if req.GetTarget() == "" && req.GetOrigin() == "" {
		return nil
	}
	return &gpb.Path{Target: req.GetTarget(), Origin: req.GetOrigin()}
}

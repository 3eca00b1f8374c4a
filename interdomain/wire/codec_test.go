package wire

import (
	"bufio"
	"bytes"
	"errors"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestRoundTrip(t *testing.T) {
	key := testKey(1)
	tests := []struct {
		name string
		msg  Message
	}{
		{"open", Open{Version: Version, DomainID: "eu-west", HoldTime: 90 * time.Second,
			Capabilities: Capabilities{RouteRefresh: true, GracefulRestart: true, RestartTime: 120 * time.Second}}},
		{"open without capabilities", Open{Version: Version, DomainID: "a"}},
		{"update", Update{Announce: []Route{testRoute("video", "origin", key), testRoute("voice", "origin", key)}, Withdraw: []string{"old"}}},
		{"update withdraw only", Update{Withdraw: []string{"a", "b"}}},
		{"update with retraction", Update{Withdraw: []string{"video"}, Retract: []Retraction{
			testRetraction("video", "origin", 42, key), testRetraction("voice", "o2", 1<<63+5, key)}}},
		{"empty update", Update{}},
		{"keepalive", Keepalive{}},
		{"notification", Notification{Code: CodeCease, Subcode: CeaseMaxRoutes, Text: "more than 100 routes"}},
		{"route refresh", RouteRefresh{}},
		{"end of rib", EndOfRIB{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Marshal(tt.msg)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			got, err := Unmarshal(b)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !reflect.DeepEqual(got, tt.msg) {
				t.Fatalf("round trip:\n got %#v\nwant %#v", got, tt.msg)
			}
		})
	}
}

// TestRoundTripProperty checks Unmarshal(Marshal(m)) == m over many random
// valid messages (a fixed seed keeps it reproducible).
func TestRoundTripProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		m := randMessage(rng)
		b, err := Marshal(m)
		if err != nil {
			t.Fatalf("#%d Marshal(%#v): %v", i, m, err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("#%d Unmarshal: %v", i, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("#%d round trip:\n got %#v\nwant %#v", i, got, m)
		}
	}
}

// envelope builds raw envelopes for malformed-input tests.
func envelope(typ Type, body []byte) []byte {
	b := protowire.AppendTag(nil, envType, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(typ))
	b = protowire.AppendTag(b, envBody, protowire.BytesType)
	return protowire.AppendBytes(b, body)
}

func updateWith(r Route) []byte {
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	return protowire.AppendBytes(b, appendRoute(nil, r))
}

func TestUnmarshalRejects(t *testing.T) {
	good := testRoute("video", "o", testKey(1))
	mutate := func(f func(*Route)) []byte {
		r := good.Clone()
		f(&r)
		return envelope(TypeUpdate, updateWith(r))
	}
	valid, err := Marshal(Update{Announce: []Route{good}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty input", nil, ErrUnknownType},
		{"unknown type", envelope(42, nil), ErrUnknownType},
		{"truncated", valid[:len(valid)-3], ErrTruncated},
		{"truncated tag", []byte{0x80}, ErrTruncated},
		{"wrong wire type for type", protowire.AppendVarint(protowire.AppendTag(nil, envType, protowire.Fixed64Type), 0), ErrTruncated},
		{"type as bytes", protowire.AppendBytes(protowire.AppendTag(nil, envType, protowire.BytesType), []byte{1}), ErrMalformed},
		{"bad field number", []byte{0x00, 0x01}, ErrMalformed},
		{"empty service", mutate(func(r *Route) { r.Service = "" }), ErrEmptyService},
		{"missing address", mutate(func(r *Route) { r.Address = netip.Addr{} }), ErrBadAddress},
		{"unspecified address", mutate(func(r *Route) { r.Address = netip.IPv4Unspecified() }), ErrBadAddress},
		{"multicast ingress", mutate(func(r *Route) { r.Ingress = netip.MustParseAddr("ff02::1") }), ErrBadAddress},
		{"zero port", mutate(func(r *Route) { r.Port = 0 }), ErrInvalid},
		{"bad proto", mutate(func(r *Route) { r.Proto = 1 }), ErrInvalid},
		{"empty origin", mutate(func(r *Route) { r.Origin = "" }), ErrInvalid},
		{"empty path", mutate(func(r *Route) { r.Path = nil }), ErrInvalid},
		{"path not ending at origin", mutate(func(r *Route) { r.Path = []string{"x"} }), ErrInvalid},
		{"short signature", mutate(func(r *Route) { r.Signature = r.Signature[:10] }), ErrInvalid},
		{"long service", mutate(func(r *Route) { r.Service = string(make([]byte, MaxServiceLen+1)) }), ErrInvalid},
		{"non utf8 service", mutate(func(r *Route) { r.Service = "\xff" }), ErrInvalid},
		{"address of 5 bytes", envelope(TypeUpdate, protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType),
			protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), []byte{1, 2, 3, 4, 5}))), ErrBadAddress},
		{"empty withdrawal", envelope(TypeUpdate, protowire.AppendString(protowire.AppendTag(nil, 2, protowire.BytesType), "")), ErrEmptyService},
		{"open without domain", envelope(TypeOpen, appendUint(nil, 1, 1)), ErrInvalid},
		{"port overflow", envelope(TypeUpdate, protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), appendUint(nil, 3, 70000))), ErrInvalid},
		{"slots overflow", envelope(TypeUpdate, protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), appendUint(nil, 7, 1<<40))), ErrInvalid},
		{"keepalive with garbage body", envelope(TypeKeepalive, []byte{0x80}), ErrTruncated},
		{"epoch as bytes", mutateRaw(good, protowire.AppendBytes(protowire.AppendTag(nil, 11, protowire.BytesType), []byte{1})), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Unmarshal(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Unmarshal = %#v, %v; want error %v", m, err, tt.want)
			}
		})
	}
}

// mutateRaw appends raw fields to the encoding of r inside an UPDATE.
func mutateRaw(r Route, extra []byte) []byte {
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	return envelope(TypeUpdate, protowire.AppendBytes(b, append(appendRoute(nil, r), extra...)))
}

func retractWith(body []byte) []byte {
	b := protowire.AppendTag(nil, 3, protowire.BytesType)
	return envelope(TypeUpdate, protowire.AppendBytes(b, body))
}

// TestRetractionRejects: the validation table of retractions, with the
// field path each error names.
func TestRetractionRejects(t *testing.T) {
	good := testRetraction("video", "o", 9, testKey(1))
	mutate := func(f func(*Retraction)) []byte {
		r := good.Clone()
		f(&r)
		return retractWith(appendRetraction(nil, r))
	}
	tests := []struct {
		name string
		in   []byte
		want error
		path string
	}{
		{"empty service", mutate(func(r *Retraction) { r.Service = "" }), ErrEmptyService, "update.retract[0].service"},
		{"long service", mutate(func(r *Retraction) { r.Service = string(make([]byte, MaxServiceLen+1)) }), ErrInvalid, "update.retract[0].service"},
		{"non utf8 service", mutate(func(r *Retraction) { r.Service = "\xff" }), ErrInvalid, "update.retract[0].service"},
		{"empty origin", mutate(func(r *Retraction) { r.Origin = "" }), ErrInvalid, "update.retract[0].origin"},
		{"long origin", mutate(func(r *Retraction) { r.Origin = string(make([]byte, MaxDomainIDLen+1)) }), ErrInvalid, "update.retract[0].origin"},
		{"zero epoch", mutate(func(r *Retraction) { r.Epoch = 0 }), ErrInvalid, "update.retract[0].epoch"},
		{"unsigned", mutate(func(r *Retraction) { r.Signature = nil }), ErrInvalid, "update.retract[0].signature"},
		{"short signature", mutate(func(r *Retraction) { r.Signature = r.Signature[:10] }), ErrInvalid, "update.retract[0].signature"},
		{"epoch as bytes", retractWith(protowire.AppendBytes(protowire.AppendTag(appendRetraction(nil, good), 3, protowire.BytesType), []byte{1})), ErrMalformed, "update.retract[0].epoch"},
		{"retraction as varint", envelope(TypeUpdate, protowire.AppendVarint(protowire.AppendTag(nil, 3, protowire.VarintType), 1)), ErrMalformed, "update.retract[0]"},
		{"truncated", retractWith(appendRetraction(nil, good)[:20]), ErrTruncated, "update.retract[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Unmarshal(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Unmarshal = %#v, %v; want error %v", m, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.path+":") && !strings.HasPrefix(err.Error(), tt.path+".") {
				t.Fatalf("error %q does not name %s", err, tt.path)
			}
		})
	}
	if _, err := Unmarshal(retractWith(appendRetraction(nil, good))); err != nil {
		t.Fatalf("the unmutated retraction: %v", err)
	}
	// Marshal refuses what Unmarshal rejects.
	bad := good.Clone()
	bad.Epoch = 0
	if _, err := Marshal(Update{Retract: []Retraction{bad}}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "retract[0].epoch") {
		t.Fatalf("Marshal of a zero-epoch retraction = %v", err)
	}
}

// TestOldDecoderSkipsRetraction: an UPDATE with a retraction and epochs,
// read by a decoder that knows neither (simulated by stripping the fields
// it would skip), keeps its withdrawal and routes.
func TestOldDecoderSkipsRetraction(t *testing.T) {
	key := testKey(1)
	u := Update{Announce: []Route{testRoute("a", "o", key)}, Withdraw: []string{"video"},
		Retract: []Retraction{testRetraction("video", "o", 3, key)}}
	b, err := Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	// Every field the new version adds is a new number in an existing
	// message; walk, the decoder's loop, skips numbers it does not know.
	var nums []protowire.Number
	body := appendBody(nil, m)
	if err := walk(body, func(f field) error { nums = append(nums, f.num); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(nums, []protowire.Number{1, 2, 3}) {
		t.Fatalf("update fields %v", nums)
	}
}

func TestUnknownFieldsSkipped(t *testing.T) {
	// A retraction is field 3 of UPDATE: a decoder that predates it skips
	// it like this one skips field 99 below, and still applies the
	// withdrawal that comes with it.
	body := appendBody(nil, Open{Version: 1, DomainID: "a"})
	body = protowire.AppendTag(body, 99, protowire.Fixed32Type)
	body = protowire.AppendFixed32(body, 7)
	body = protowire.AppendTag(body, 100, protowire.BytesType)
	body = protowire.AppendString(body, "future")
	m, err := Unmarshal(envelope(TypeOpen, body))
	if err != nil {
		t.Fatal(err)
	}
	if o := m.(Open); o.DomainID != "a" || o.Version != 1 {
		t.Fatalf("got %#v", o)
	}
}

func TestMarshalRefusesInvalid(t *testing.T) {
	r := testRoute("s", "o", testKey(1))
	r.Service = ""
	if _, err := Marshal(Update{Announce: []Route{r}}); !errors.Is(err, ErrEmptyService) {
		t.Fatalf("Marshal = %v, want ErrEmptyService", err)
	}
	if _, err := Marshal(Open{}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Marshal(Open{}) = %v, want ErrInvalid", err)
	}
}

// TestComputedSizes: the encoder sizes UPDATEs arithmetically to write them
// in one buffer; the sizes must be those of the encoding, or frames would
// be corrupt (and SplitUpdate's limit wrong).
func TestComputedSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		m := randMessage(rng)
		b, err := Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if n := envelopeLen(bodyLen(m)); n != len(b) {
			t.Fatalf("message %d (%v): computed %d bytes, encoded %d", i, m.Type(), n, len(b))
		}
		if u, ok := m.(Update); ok {
			for _, r := range u.Announce {
				if n, enc := routeLen(r), len(appendRoute(nil, r)); n != enc {
					t.Fatalf("route %+v: computed %d bytes, encoded %d", r, n, enc)
				}
			}
		}
		f, err := AppendFrame([]byte("prefix"), m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadFrame(bufio.NewReader(bytes.NewReader(f[len("prefix"):])), 0)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Fatalf("frame of message %d does not read back: %v", i, err)
		}
	}
}

package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"testing"
)

func TestFrames(t *testing.T) {
	msgs := []Message{Open{Version: 1, DomainID: "a"}, Keepalive{}, Update{Withdraw: []string{"x"}}, EndOfRIB{}}
	var buf bytes.Buffer
	for _, m := range msgs {
		if err := WriteFrame(&buf, m); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReader(&buf)
	for i, want := range msgs {
		got, err := ReadFrame(r, 0)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("frame %d = %#v, want %#v", i, got, want)
		}
	}
	if _, err := ReadFrame(r, 0); err != io.EOF {
		t.Fatalf("after last frame: %v, want io.EOF", err)
	}
}

func TestReadFrameRejects(t *testing.T) {
	full, err := AppendFrame(nil, Update{Withdraw: []string{"service"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
		max  int
		want error
	}{
		{"truncated body", full[:len(full)-2], 0, ErrTruncated},
		{"truncated length", []byte{0x80}, 0, ErrTruncated},
		{"oversize", binary.AppendUvarint(nil, MaxMessageSize+1), 0, ErrOversize},
		{"over a smaller max", full, 4, ErrOversize},
		{"length overflow", bytes.Repeat([]byte{0xff}, 11), 0, ErrMalformed},
		{"bad body", append(binary.AppendUvarint(nil, 2), 0x08, 0x63), 0, ErrUnknownType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadFrame(bufio.NewReader(bytes.NewReader(tt.in)), tt.max)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ReadFrame = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSplitUpdate(t *testing.T) {
	key := testKey(3)
	var u Update
	for i := range 300 {
		u.Announce = append(u.Announce, testRoute(string(rune('a'+i%26))+string(rune('a'+i/26)), "o", key))
	}
	u.Withdraw = []string{"gone1", "gone2"}
	u.Retract = []Retraction{testRetraction("gone1", "o", 7, key)}
	const max = 4096
	parts := SplitUpdate(u, max)
	if len(parts) < 2 {
		t.Fatalf("got %d parts, want several", len(parts))
	}
	var ann, wd, rt int
	for i, p := range parts {
		b, err := Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > max {
			t.Fatalf("part %d is %d bytes > %d", i, len(b), max)
		}
		ann += len(p.Announce)
		wd += len(p.Withdraw)
		rt += len(p.Retract)
	}
	if ann != 300 || wd != 2 || rt != 1 || len(parts[0].Withdraw) != 2 || len(parts[0].Retract) != 1 {
		t.Fatalf("split lost routes: %d announcements, %d withdrawals, %d retractions", ann, wd, rt)
	}
}

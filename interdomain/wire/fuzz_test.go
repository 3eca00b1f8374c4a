package wire

import (
	"bufio"
	"bytes"
	"reflect"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder. It must never panic, and
// whatever it accepts must re-encode to something that decodes to the same
// message (the codec has one meaning per message). The same bytes are also
// read as a frame stream. Seeds live in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	key := testKey(1)
	batch := []Route{testRoute("s1", "o", key), testRoute("s2", "o", key), testRoute("s3", "o", key)}
	if err := SignBatch(batch, key); err != nil {
		f.Fatal(err)
	}
	for _, m := range []Message{
		Open{Version: Version, DomainID: "a", Capabilities: Capabilities{RouteRefresh: true, BatchSignatures: true}},
		Update{Announce: batch},
		Update{Announce: []Route{testRoute("s", "o", key)}, Withdraw: []string{"w"}},
		Update{Withdraw: []string{"w"}, Retract: []Retraction{testRetraction("w", "o", 1<<60, key)}},
		Notification{Code: CodeCease, Text: "bye"},
		Keepalive{},
	} {
		b, err := Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Unmarshal(data)
		if err == nil {
			b, err := Marshal(m)
			if err != nil {
				t.Fatalf("decoded message does not re-encode: %v (%#v)", err, m)
			}
			m2, err := Unmarshal(b)
			if err != nil {
				t.Fatalf("re-encoded message does not decode: %v", err)
			}
			if !reflect.DeepEqual(m, m2) {
				t.Fatalf("re-encoding changed the message:\n%#v\n%#v", m, m2)
			}
		}
		r := bufio.NewReader(bytes.NewReader(data))
		for range 8 {
			if _, err := ReadFrame(r, 1<<12); err != nil {
				break
			}
		}
	})
}

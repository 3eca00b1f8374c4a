package fsm_test

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"time"

	"github.com/stitchnfv/stitch/interdomain/fsm"
	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

func key(id string) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte(id))
	return ed25519.NewKeyFromSeed(seed[:])
}

// Example shows how a transport drives two Speakers: after every input it
// takes Ready(), writes each message as a frame on the peer's stream, and
// feeds the frames read from a stream to Receive. Here the "streams" are
// byte buffers and time stands still.
func Example() {
	keys := rib.StaticKeys{
		"eu": key("eu").Public().(ed25519.PublicKey),
		"us": key("us").Public().(ed25519.PublicKey),
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	newSpeaker := func(id, peer string) *fsm.Speaker {
		s, err := fsm.New(fsm.Config{LocalID: id, Key: key(id), Keys: keys, Peers: []fsm.PeerConfig{{ID: peer}}})
		if err != nil {
			panic(err)
		}
		return s
	}
	eu, us := newSpeaker("eu", "us"), newSpeaker("us", "eu")
	// Each session's stream, as seen by its receiving side.
	type end struct {
		s, peer *fsm.Speaker
		from    string
		in      *bytes.Buffer
	}
	ends := []*end{{eu, us, "us", &bytes.Buffer{}}, {us, eu, "eu", &bytes.Buffer{}}}
	inbox := map[*fsm.Speaker]*bytes.Buffer{eu: ends[0].in, us: ends[1].in}

	// pump moves messages until both are quiet, through the real framing.
	pump := func() {
		for moved := true; moved; {
			moved = false
			for _, e := range ends {
				for _, m := range e.s.Ready().Messages {
					if err := wire.WriteFrame(inbox[e.peer], m.Msg); err != nil {
						panic(err)
					}
					moved = true
				}
			}
			for _, e := range ends {
				r := bufio.NewReader(e.in)
				for {
					m, err := wire.ReadFrame(r, 0)
					if err != nil {
						break // io.EOF: drained
					}
					if err := e.s.Receive(now, e.from, m); err != nil {
						panic(err)
					}
				}
				e.in.Reset()
			}
		}
	}

	if err := eu.Connected(now, "us"); err != nil {
		panic(err)
	}
	if err := us.Connected(now, "eu"); err != nil {
		panic(err)
	}
	pump()
	fmt.Println("eu sees us:", eu.State("us"))

	err := eu.Announce(now, fsm.LocalService{
		Name: "video", Address: netip.MustParseAddr("198.51.100.10"), Port: 443, Proto: wire.TCP,
		Ingress: netip.MustParseAddr("192.0.2.1"), Slots: 250,
	})
	if err != nil {
		panic(err)
	}
	pump()
	b, _ := us.RIB().Best("video")
	fmt.Printf("us: video via %s, path %v, %d slots (%s)\n", b.Peer, b.Route.Path, b.Route.Slots, b.Reason)
	// Output:
	// eu sees us: Established
	// us: video via eu, path [eu], 250 slots (only path)
}

package fsm

import (
	"crypto/ed25519"
	"crypto/sha256"
	"net/netip"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func testKey(id string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte(id))
	return ed25519.NewKeyFromSeed(s[:])
}

func testKeys(ids ...string) rib.StaticKeys {
	k := rib.StaticKeys{}
	for _, id := range ids {
		k[id] = testKey(id).Public().(ed25519.PublicKey)
	}
	return k
}

func config(id, peer string) Config {
	return Config{
		LocalID: id, Key: testKey(id), Keys: testKeys("A", "B"),
		Peers: []PeerConfig{{ID: peer}}, HoldTime: 9 * time.Second, MRAI: 10 * time.Second,
		RestartTime: time.Minute,
	}
}

// pair is two speakers A and B joined directly, with instant delivery.
type pair struct {
	t    *testing.T
	a, b *Speaker
	now  time.Time
	// got records every message delivered, by receiver.
	got    map[string][]wire.Message
	events []Event
	closed []string
}

func newPair(t *testing.T, tune func(a, b *Config)) *pair {
	t.Helper()
	ca, cb := config("A", "B"), config("B", "A")
	if tune != nil {
		tune(&ca, &cb)
	}
	a, err := New(ca)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(cb)
	if err != nil {
		t.Fatal(err)
	}
	p := &pair{t: t, a: a, b: b, now: t0, got: map[string][]wire.Message{}}
	must(t, a.Connected(p.now, "B"))
	must(t, b.Connected(p.now, "A"))
	p.pump()
	if a.State("B") != Established || b.State("A") != Established {
		t.Fatalf("states %v %v", a.State("B"), b.State("A"))
	}
	return p
}

func (p *pair) other(s *Speaker) (*Speaker, string) {
	if s == p.a {
		return p.b, "A"
	}
	return p.a, "B"
}

// pump delivers messages both ways until both speakers are quiet. A closed
// stream delivers nothing more.
func (p *pair) pump() {
	for range 100 {
		quiet := true
		for _, s := range []*Speaker{p.a, p.b} {
			out := s.Ready()
			p.events = append(p.events, out.Events...)
			p.closed = append(p.closed, out.Close...)
			dst, from := p.other(s)
			for _, m := range out.Messages {
				quiet = false
				p.got[dst.ID()] = append(p.got[dst.ID()], m.Msg)
				must(p.t, dst.Receive(p.now, from, m.Msg))
			}
		}
		if quiet {
			return
		}
	}
	p.t.Fatal("speakers never went quiet")
}

// advance moves time forward a second at a time, ticking both speakers, so
// keepalives flow as they would.
func (p *pair) advance(d time.Duration) {
	for end := p.now.Add(d); p.now.Before(end); {
		p.now = p.now.Add(min(time.Second, end.Sub(p.now)))
		p.a.Tick(p.now)
		p.b.Tick(p.now)
		p.pump()
	}
}

// take returns and clears the messages B received.
func (p *pair) take(id string) []wire.Message {
	m := p.got[id]
	p.got[id] = nil
	return m
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func svc(name string, slots uint32) LocalService {
	return LocalService{
		Name: name, Address: netip.MustParseAddr("198.51.100.1"), Port: 80, Proto: wire.TCP,
		Ingress: netip.MustParseAddr("192.0.2.1"), Slots: slots,
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

package fsm

import (
	"errors"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

func TestConfigRejected(t *testing.T) {
	tests := []struct {
		name string
		mut  func(*Config)
	}{
		{"no local id", func(c *Config) { c.LocalID = "" }},
		{"no key", func(c *Config) { c.Key = nil }},
		{"hold time too short", func(c *Config) { c.HoldTime = time.Second }},
		{"peer is us", func(c *Config) { c.Peers = []PeerConfig{{ID: "A"}} }},
		{"peer twice", func(c *Config) { c.Peers = []PeerConfig{{ID: "B"}, {ID: "B"}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config("A", "B")
			tt.mut(&c)
			if _, err := New(c); !errors.Is(err, ErrConfig) {
				t.Fatalf("New = %v, want ErrConfig", err)
			}
		})
	}
}

func TestMisuse(t *testing.T) {
	s, err := New(config("A", "B"))
	must(t, err)
	if err := s.Connected(t0, "Z"); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("Connected(unknown) = %v", err)
	}
	must(t, s.Connected(t0, "B"))
	if err := s.Connected(t0, "B"); !errors.Is(err, ErrNotIdle) {
		t.Fatalf("second Connected = %v", err)
	}
	if err := s.RequestRefresh(t0, "B"); !errors.Is(err, ErrNotUp) {
		t.Fatalf("RequestRefresh before up = %v", err)
	}
	bad := svc("", 1)
	if err := s.Announce(t0, bad); !errors.Is(err, wire.ErrEmptyService) {
		t.Fatalf("Announce(empty name) = %v", err)
	}
}

// TestOpenRefused: each bad OPEN is answered with the right NOTIFICATION and
// leaves the session Idle.
func TestOpenRefused(t *testing.T) {
	tests := []struct {
		name    string
		open    wire.Open
		code    wire.NotifyCode
		subcode uint8
	}{
		{"wrong domain", wire.Open{Version: 1, DomainID: "C", HoldTime: 9 * time.Second}, wire.CodeOpen, wire.OpenBadPeerID},
		{"wrong version", wire.Open{Version: 2, DomainID: "B", HoldTime: 9 * time.Second}, wire.CodeOpen, wire.OpenUnsupportedVersion},
		{"hold time too short", wire.Open{Version: 1, DomainID: "B", HoldTime: time.Second}, wire.CodeOpen, wire.OpenUnacceptableHoldTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(config("A", "B"))
			must(t, err)
			must(t, s.Connected(t0, "B"))
			s.Ready()
			must(t, s.Receive(t0, "B", tt.open))
			out := s.Ready()
			if len(out.Messages) != 1 || len(out.Close) != 1 {
				t.Fatalf("output %+v", out)
			}
			n, ok := out.Messages[0].Msg.(wire.Notification)
			if !ok || n.Code != tt.code || n.Subcode != tt.subcode {
				t.Fatalf("sent %+v, want code %v subcode %d", out.Messages[0].Msg, tt.code, tt.subcode)
			}
			if s.State("B") != Idle {
				t.Fatalf("state %v", s.State("B"))
			}
		})
	}
}

func TestUnexpectedMessage(t *testing.T) {
	s, err := New(config("A", "B"))
	must(t, err)
	must(t, s.Connected(t0, "B"))
	s.Ready()
	must(t, s.Receive(t0, "B", wire.Update{}))
	out := s.Ready()
	if n, ok := out.Messages[0].Msg.(wire.Notification); !ok || n.Code != wire.CodeFSM {
		t.Fatalf("sent %+v", out.Messages)
	}
}

func TestHoldTimeNegotiatedAndKeepalives(t *testing.T) {
	p := newPair(t, func(a, b *Config) { b.HoldTime = 30 * time.Second })
	if got := p.a.Peers()[0].HoldTime; got != 9*time.Second {
		t.Fatalf("negotiated hold time %v, want the smaller 9s", got)
	}
	p.take("B")
	if d := p.a.NextDeadline(); !d.Equal(t0.Add(3 * time.Second)) {
		t.Fatalf("next deadline %v, want keepalive at hold/3", d.Sub(t0))
	}
	p.advance(30 * time.Second)
	if got := p.take("B"); len(got) != 10 {
		t.Fatalf("B got %d messages in 30s, want 10 keepalives", len(got))
	}
	if p.a.State("B") != Established {
		t.Fatal("session dropped despite keepalives")
	}
}

func TestMalformedInputClosesSession(t *testing.T) {
	p := newPair(t, nil)
	must(t, p.b.Announce(p.now, svc("s", 1)))
	p.pump()
	if _, ok := p.a.RIB().Best("s"); !ok {
		t.Fatal("route not learnt")
	}
	_, err := wire.Unmarshal([]byte{0x08, 0x02, 0x12, 0x03, 0x0a, 0x01})
	must(t, p.a.ReceiveError(p.now, "B", err))
	out := p.a.Ready()
	n, ok := out.Messages[0].Msg.(wire.Notification)
	if !ok || n.Code != wire.CodeUpdate || len(out.Close) != 1 {
		t.Fatalf("output %+v", out)
	}
	if _, ok := p.a.RIB().Best("s"); ok {
		t.Fatal("routes of a broken session kept")
	}
}

func TestRouteRefresh(t *testing.T) {
	p := newPair(t, nil)
	must(t, p.a.Announce(p.now, svc("s1", 1)))
	must(t, p.a.Announce(p.now, svc("s2", 1)))
	p.advance(10 * time.Second)
	p.take("B")
	must(t, p.b.RequestRefresh(p.now, "A"))
	p.pump()
	got := p.take("B")
	if len(got) != 2 {
		t.Fatalf("refresh answer %+v", got)
	}
	if u, ok := got[0].(wire.Update); !ok || len(u.Announce) != 2 {
		t.Fatalf("refresh update %+v", got[0])
	}
	if _, ok := got[1].(wire.EndOfRIB); !ok {
		t.Fatalf("no END-OF-RIB: %+v", got[1])
	}
}

func TestNotificationReceivedDropsRoutes(t *testing.T) {
	p := newPair(t, nil)
	must(t, p.b.Announce(p.now, svc("s", 1)))
	p.pump()
	must(t, p.b.Shutdown(p.now, "A", "maintenance"))
	p.pump()
	if p.a.State("B") != Idle {
		t.Fatalf("state %v", p.a.State("B"))
	}
	// A NOTIFICATION is an orderly close: no graceful restart.
	if _, ok := p.a.RIB().Best("s"); ok {
		t.Fatal("routes kept after NOTIFICATION")
	}
	var nt wire.Notification
	found := false
	for _, e := range p.events {
		if e.Kind == SessionDown && errors.As(e.Err, &nt) && nt.Subcode == wire.CeaseAdminShutdown {
			found = true
		}
	}
	if !found {
		t.Fatalf("events %+v", p.events)
	}
}

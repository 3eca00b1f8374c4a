package config

import (
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

func testPeerID(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := crypto.UnmarshalEd25519PublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

func TestInterDomainOffByDefault(t *testing.T) {
	if Default().InterDomain != nil {
		t.Fatal("inter-domain routing should be off by default")
	}
}

func TestParseInterDomain(t *testing.T) {
	id := testPeerID(t)
	c, err := Parse([]byte(`interdomain:
  domain: east
  hold-time: 9s
  mrai: 200ms
  peers:
    - domain: west
      peer-id: ` + id + `
      addrs: [/ip4/127.0.0.1/tcp/4001]
      export: {services: [complex-service/web-entry], max-slots: 50}
      max-routes: 10
`))
	if err != nil {
		t.Fatal(err)
	}
	d := c.InterDomain
	if d == nil || d.Domain != "east" || time.Duration(d.HoldTime) != 9*time.Second || time.Duration(d.MRAI) != 200*time.Millisecond {
		t.Fatalf("parsed %+v", d)
	}
	if d.ListenAddr() != DefaultInterDomainListen {
		t.Fatalf("listen = %q", d.ListenAddr())
	}
	p := d.Peers[0]
	if p.Domain != "west" || p.PeerID != id || len(p.Addrs) != 1 || p.Export.MaxSlots != 50 || p.Export.Services[0] != "complex-service/web-entry" || p.MaxRoutes != 10 {
		t.Fatalf("peer %+v", p)
	}
	if got := d.KeyPath("/var/lib/stitch"); got != "/var/lib/stitch/interdomain.key" {
		t.Fatalf("key path %q", got)
	}
	d.KeyFile = "k/x.key"
	if got := d.KeyPath("/s"); got != "/s/k/x.key" {
		t.Fatalf("key path %q", got)
	}
}

func TestParseInterDomainRejects(t *testing.T) {
	id, other := testPeerID(t), testPeerID(t)
	peerYAML := func(domain, pid, addr string) string {
		return "    - {domain: " + domain + ", peer-id: '" + pid + "', addrs: ['" + addr + "']}\n"
	}
	const head = "interdomain:\n  domain: east\n  peers:\n"
	for name, tc := range map[string]struct{ yaml, want string }{
		"no domain":        {"interdomain: {listen: /ip4/127.0.0.1/tcp/0}\n", "interdomain.domain: required"},
		"bad listen":       {"interdomain: {domain: east, listen: 127.0.0.1:4001}\n", "interdomain.listen"},
		"short hold time":  {"interdomain: {domain: east, hold-time: 1s}\n", "interdomain.hold-time"},
		"unknown field":    {"interdomain: {domain: east, peerz: []}\n", "peerz"},
		"bad multiaddr":    {head + peerYAML("west", id, "/ip4/300.0.0.1/tcp/1"), "interdomain.peers[0].addrs[0]"},
		"p2p in addr":      {head + peerYAML("west", id, "/ip4/127.0.0.1/tcp/1/p2p/"+id), "interdomain.peers[0].addrs[0]"},
		"bad peer id":      {head + peerYAML("west", "QmNotAPeer", "/ip4/127.0.0.1/tcp/1"), "interdomain.peers[0].peer-id"},
		"no peer id":       {head + "    - {domain: west}\n", "interdomain.peers[0].peer-id: required"},
		"duplicate domain": {head + peerYAML("west", id, "/ip4/127.0.0.1/tcp/1") + peerYAML("west", other, "/ip4/127.0.0.1/tcp/2"), "interdomain.peers[1].domain: duplicate"},
		"duplicate id":     {head + peerYAML("west", id, "/ip4/127.0.0.1/tcp/1") + peerYAML("north", id, "/ip4/127.0.0.1/tcp/2"), "interdomain.peers[1].peer-id: duplicate"},
		"own domain":       {head + peerYAML("east", id, "/ip4/127.0.0.1/tcp/1"), "interdomain.peers[0].domain: \"east\" is this domain"},
		"no peer domain":   {head + "    - {peer-id: '" + id + "'}\n", "interdomain.peers[0].domain: required"},
		"negative max":     {head + "    - {domain: west, peer-id: '" + id + "', max-routes: -1}\n", "interdomain.peers[0].max-routes"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "id.key")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Fatal("reloaded key differs")
	}
	if err := os.WriteFile(path, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Fatal("junk key file accepted")
	}
}

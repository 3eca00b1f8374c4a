package main

import (
	"encoding/json"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/stitchnfv/stitch/nfvo"
)

func TestDomainPeersAndRoutes(t *testing.T) {
	e := newEnv(t)
	e.fake.SetInterDomain(
		[]nfvo.DomainPeer{{Domain: "west", PeerID: "12D3KooWwest", State: "Established", Connected: true, RoutesReceived: 1, RoutesSent: 0}},
		[]nfvo.DomainRoute{{Service: "complex-service/web-entry", Address: "10.10.0.100", Port: 8080, Protocol: "tcp",
			Origin: "west", Path: []string{"west"}, Peer: "west", Slots: 60, Ingress: "10.10.0.100", Reason: "only path"}},
	)
	out := e.ok(t, "domain", "peers").out
	for _, want := range []string{"DOMAIN", "west", "12D3KooWwest", "Established", "yes"} {
		if !strings.Contains(out, want) {
			t.Errorf("domain peers lacks %q:\n%s", want, out)
		}
	}
	out = e.ok(t, "domain", "routes").out
	for _, want := range []string{"SERVICE", "complex-service/web-entry", "10.10.0.100:8080/tcp", "west", "60", "only path"} {
		if !strings.Contains(out, want) {
			t.Errorf("domain routes lacks %q:\n%s", want, out)
		}
	}
	var routes []nfvo.DomainRoute
	if err := json.Unmarshal([]byte(e.ok(t, "domain", "routes", "-o", "json").out), &routes); err != nil || len(routes) != 1 || routes[0].Slots != 60 {
		t.Errorf("-o json: %+v, %v", routes, err)
	}
	var peers []nfvo.DomainPeer
	if err := yaml.Unmarshal([]byte(e.ok(t, "domain", "peers", "-o", "yaml").out), &peers); err != nil || len(peers) != 1 || peers[0].PeerID != "12D3KooWwest" {
		t.Errorf("-o yaml: %+v, %v", peers, err)
	}
}

func TestDomainOff(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, "domain", "routes")
	if r.code != exitFailed || !strings.Contains(r.err, "inter-domain routing is not configured") {
		t.Fatalf("exit %d, stderr %q", r.code, r.err)
	}
}

package api_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/nfvo/api"
	"github.com/stitchnfv/stitch/nfvo/api/apitest"
)

var (
	_ api.InterDomain = (*apitest.Fake)(nil)
	_ api.InterDomain = (*api.Client)(nil)
)

func TestInterDomainOff(t *testing.T) {
	t.Parallel()
	c := newClient(t, apitest.New())
	for name, call := range map[string]func() error{
		"peers":  func() error { _, err := c.InterDomainPeers(t.Context()); return err },
		"routes": func() error { _, err := c.InterDomainRoutes(t.Context()); return err },
	} {
		err := call()
		apiErr, ok := errors.AsType[*api.APIError](err)
		if !ok || apiErr.Problem.Status != http.StatusNotFound || !errors.Is(err, nfvo.ErrNotFound) ||
			!strings.Contains(apiErr.Problem.Detail, "inter-domain routing is not configured") {
			t.Errorf("%s: err = %v, want a 404 saying inter-domain routing is not configured", name, err)
		}
	}
}

func TestInterDomainPeersAndRoutes(t *testing.T) {
	t.Parallel()
	f := apitest.New()
	peers := []nfvo.DomainPeer{{Domain: "west", PeerID: "12D3KooWx", State: "Established", Connected: true, RoutesReceived: 1, RoutesSent: 2}}
	routes := []nfvo.DomainRoute{{Service: "complex-service/web-entry", Address: "10.10.0.100", Port: 8080, Protocol: "tcp",
		Origin: "west", Path: []string{"west"}, Peer: "west", Slots: 60, Metric: 1, Ingress: "10.10.0.100", Reason: "only path"}}
	f.SetInterDomain(peers, routes)
	c := newClient(t, f)
	gotPeers, err := c.InterDomainPeers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	gotRoutes, err := c.InterDomainRoutes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gotPeers, peers) {
		t.Errorf("peers = %+v", gotPeers)
	}
	if len(gotRoutes) != 1 || gotRoutes[0].Service != routes[0].Service || !slices.Equal(gotRoutes[0].Path, routes[0].Path) || gotRoutes[0].Slots != 60 {
		t.Errorf("routes = %+v", gotRoutes)
	}
}

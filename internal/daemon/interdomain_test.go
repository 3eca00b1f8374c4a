package daemon

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/interdomain/transport"
	"github.com/stitchnfv/stitch/internal/config"
	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/nfvo/api"
)

// domainKey creates a domain key file and returns its path and peer id.
func domainKey(t *testing.T) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "domain.key")
	key, err := config.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	id, err := transport.PeerID(key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	return path, id.String()
}

// waitRoutes polls c's inter-domain routes until ok holds.
func waitRoutes(t *testing.T, c *api.Client, timeout time.Duration, what string, ok func([]nfvo.DomainRoute) bool) []nfvo.DomainRoute {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		routes, err := c.InterDomainRoutes(context.Background())
		if err == nil && ok(routes) {
			return routes
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s (routes %+v, err %v)", what, timeout, routes, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestInterDomainAnnounce: two daemons peer; A instantiates the complex
// service and B learns its SAP as a service route with A's free slots;
// A terminates it and B's route goes away.
func TestInterDomainAnnounce(t *testing.T) {
	ctx := context.Background()
	keyA, idA := domainKey(t)
	keyB, idB := domainKey(t)
	// The peer whose id sorts lower dials: make it B, which knows A's
	// address once A runs.
	if idB > idA {
		keyA, idA, keyB, idB = keyB, idB, keyA, idA
	}
	cfgA := testConfig(t)
	cfgA.InterDomain = &config.InterDomain{
		Domain: "dom-a", KeyFile: keyA, MRAI: config.Duration(100 * time.Millisecond),
		Peers: []config.DomainPeer{{Domain: "dom-b", PeerID: idB}},
	}
	if err := cfgA.Validate(); err != nil {
		t.Fatal(err)
	}
	dA, cA := startInProcess(t, cfgA)
	if dA.InterDomain == nil || dA.InterDomain.ID().String() != idA || len(dA.InterDomain.Addrs()) == 0 {
		t.Fatalf("A's inter-domain node: %+v", dA.InterDomain)
	}
	var addrs []string
	for _, a := range dA.InterDomain.Addrs() {
		addrs = append(addrs, a.String())
	}
	cfgB := testConfig(t)
	cfgB.InterDomain = &config.InterDomain{
		Domain: "dom-b", KeyFile: keyB, MRAI: config.Duration(100 * time.Millisecond),
		Peers: []config.DomainPeer{{Domain: "dom-a", PeerID: idA, Addrs: addrs}},
	}
	if err := cfgB.Validate(); err != nil {
		t.Fatal(err)
	}
	_, cB := startInProcess(t, cfgB)

	// The session comes up.
	deadline := time.Now().Add(10 * time.Second)
	for {
		peers, err := cB.InterDomainPeers(ctx)
		if err == nil && len(peers) == 1 && peers[0].Domain == "dom-a" && peers[0].PeerID == idA &&
			peers[0].State == "Established" && peers[0].Connected {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B's session to A not established: %+v, %v", peers, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	onboardExamples(t, cA)
	ns, err := cA.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "complex-service", Name: "interdomain"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := cA.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
	mustComplete(t, cA, op, err)
	start := time.Now()
	const svc = "complex-service/web-entry"
	routes := waitRoutes(t, cB, 10*time.Second, "B learns the service with 60 slots", func(rs []nfvo.DomainRoute) bool {
		i := slices.IndexFunc(rs, func(r nfvo.DomainRoute) bool { return r.Service == svc })
		return i >= 0 && rs[i].Slots == 60
	})
	t.Logf("B learnt %s %s after instantiation: %+v", svc, time.Since(start).Round(time.Millisecond), routes)
	r := routes[slices.IndexFunc(routes, func(r nfvo.DomainRoute) bool { return r.Service == svc })]
	if r.Origin != "dom-a" || !slices.Equal(r.Path, []string{"dom-a"}) || r.Peer != "dom-a" ||
		r.Address != "10.10.0.100" || r.Port != 8080 || r.Protocol != "tcp" || r.Ingress != "10.10.0.100" || r.Reason == "" {
		t.Errorf("B's route = %+v", r)
	}
	local, err := cA.InterDomainRoutes(ctx)
	if err != nil || len(local) != 1 || local[0].Service != svc || local[0].Peer != "" {
		t.Errorf("A's routes = %+v, %v", local, err)
	}

	op, err = cA.Terminate(ctx, ns.ID, nfvo.TerminateRequest{GracefulTerminationTimeout: 1})
	mustComplete(t, cA, op, err)
	waitRoutes(t, cB, 5*time.Second, "B's route withdrawn", func(rs []nfvo.DomainRoute) bool {
		return !slices.ContainsFunc(rs, func(r nfvo.DomainRoute) bool { return r.Service == svc })
	})
}

// TestInterDomainOff: without an interdomain section the API answers 404.
func TestInterDomainOff(t *testing.T) {
	cfg := testConfig(t)
	d, c := startInProcess(t, cfg)
	if d.InterDomain != nil {
		t.Fatal("inter-domain node started without configuration")
	}
	_, err := c.InterDomainRoutes(context.Background())
	apiErr, ok := errors.AsType[*api.APIError](err)
	if !ok || apiErr.Problem.Status != http.StatusNotFound {
		t.Fatalf("err = %v, want a 404", err)
	}
}

package api

import (
	"context"
	"net/http"

	"github.com/stitchnfv/stitch/nfvo"
)

const pathInterDomain = "/interdomain/v1"

// InterDomain is what the inter-domain endpoints need: the daemon's
// inter-domain node. A Service that does not implement it (or answers
// nfvo.ErrInterDomainOff) has inter-domain routing off, and the endpoints
// answer 404 "inter-domain routing is not configured".
type InterDomain interface {
	InterDomainPeers(ctx context.Context) ([]nfvo.DomainPeer, error)
	InterDomainRoutes(ctx context.Context) ([]nfvo.DomainRoute, error)
}

// interDomainRoutes: the neighbour sessions and the best service routes.
func (s *server) interDomainRoutes() []route {
	return []route{
		{http.MethodGet, pathInterDomain + "/peers", s.listDomainPeers},
		{http.MethodGet, pathInterDomain + "/routes", s.listDomainRoutes},
	}
}

func (s *server) listDomainPeers(w http.ResponseWriter, r *http.Request) error {
	id, ok := s.svc.(InterDomain)
	if !ok {
		return nfvo.ErrInterDomainOff
	}
	peers, err := id.InterDomainPeers(r.Context())
	if err != nil {
		return err
	}
	return writeObject(w, r, http.StatusOK, nonNil(peers))
}

func (s *server) listDomainRoutes(w http.ResponseWriter, r *http.Request) error {
	id, ok := s.svc.(InterDomain)
	if !ok {
		return nfvo.ErrInterDomainOff
	}
	routes, err := id.InterDomainRoutes(r.Context())
	if err != nil {
		return err
	}
	return writeObject(w, r, http.StatusOK, nonNil(routes))
}

// InterDomainPeers lists the neighbour domains and their sessions.
func (c *Client) InterDomainPeers(ctx context.Context) ([]nfvo.DomainPeer, error) {
	return get[[]nfvo.DomainPeer](ctx, c, pathInterDomain+"/peers")
}

// InterDomainRoutes lists each service's best route and why it won.
func (c *Client) InterDomainRoutes(ctx context.Context) ([]nfvo.DomainRoute, error) {
	return get[[]nfvo.DomainRoute](ctx, c, pathInterDomain+"/routes")
}

package apitest

import (
	"context"
	"slices"

	"github.com/stitchnfv/stitch/nfvo"
)

// SetInterDomain turns inter-domain routing on, with these peers and
// routes; until then the inter-domain methods answer
// nfvo.ErrInterDomainOff.
func (f *Fake) SetInterDomain(peers []nfvo.DomainPeer, routes []nfvo.DomainRoute) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.interDomain = true
	f.domainPeers, f.domainRoutes = slices.Clone(peers), slices.Clone(routes)
}

// InterDomainPeers implements api.InterDomain.
func (f *Fake) InterDomainPeers(context.Context) ([]nfvo.DomainPeer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("InterDomainPeers"); err != nil {
		return nil, err
	}
	if !f.interDomain {
		return nil, nfvo.ErrInterDomainOff
	}
	return slices.Clone(f.domainPeers), nil
}

// InterDomainRoutes implements api.InterDomain.
func (f *Fake) InterDomainRoutes(context.Context) ([]nfvo.DomainRoute, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.enter("InterDomainRoutes"); err != nil {
		return nil, err
	}
	if !f.interDomain {
		return nil, nfvo.ErrInterDomainOff
	}
	return slices.Clone(f.domainRoutes), nil
}

package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/stitchnfv/stitch/interdomain/fsm"
	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/transport"
	"github.com/stitchnfv/stitch/interdomain/wire"
	"github.com/stitchnfv/stitch/internal/config"
	"github.com/stitchnfv/stitch/nfvo"
)

// announceInterval is how often the services to originate are recomputed
// from the NS instances; the fsm rate-limits the slot updates it sends.
const announceInterval = time.Second

// startInterDomain starts the inter-domain node of cfg.InterDomain.
func startInterDomain(ctx context.Context, cfg config.Config, log *slog.Logger) (*transport.Node, error) {
	id := cfg.InterDomain
	key, err := config.LoadOrCreateKey(id.KeyPath(cfg.StateDir))
	if err != nil {
		return nil, fmt.Errorf("interdomain: %w", err)
	}
	listen, err := ma.NewMultiaddr(id.ListenAddr())
	if err != nil {
		return nil, fmt.Errorf("interdomain.listen: %w", err) // validated
	}
	tc := transport.Config{
		Domain: id.Domain,
		Key:    key,
		Listen: []ma.Multiaddr{listen},
		Protocol: fsm.Config{
			HoldTime: time.Duration(id.HoldTime),
			MRAI:     time.Duration(id.MRAI),
		},
		Logger: log,
	}
	for _, p := range id.Peers {
		pid, err := peer.Decode(p.PeerID)
		if err != nil {
			return nil, fmt.Errorf("interdomain peer %s: %w", p.Domain, err) // validated
		}
		tp := transport.Peer{
			Domain: p.Domain, ID: pid, MaxRoutes: p.MaxRoutes,
			Export: rib.ExportPolicy{Services: p.Export.Services, MaxSlots: p.Export.MaxSlots},
		}
		for _, a := range p.Addrs {
			m, err := ma.NewMultiaddr(a)
			if err != nil {
				return nil, fmt.Errorf("interdomain peer %s: %w", p.Domain, err) // validated
			}
			tp.Addrs = append(tp.Addrs, m)
		}
		tc.Peers = append(tc.Peers, tp)
	}
	node, err := transport.New(context.WithoutCancel(ctx), tc) // Daemon.Close closes it
	if err != nil {
		return nil, fmt.Errorf("interdomain: %w", err)
	}
	addrs := make([]string, 0, len(node.Addrs()))
	for _, a := range node.Addrs() {
		addrs = append(addrs, a.String())
	}
	log.Info("interdomain listening", "domain", id.Domain, "peer-id", node.ID().String(), "addrs", strings.Join(addrs, ","))
	return node, nil
}

// announcer originates the orchestrator's services on the node.
type announcer struct{ node *transport.Node }

func (a announcer) Announce(ctx context.Context, svc nfvo.AnnouncedService) error {
	ls, err := localService(svc)
	if err != nil {
		return err
	}
	return a.node.Announce(ctx, ls)
}

// AnnounceAll announces svcs in one call, so that the node signs those that
// changed as one batch; a service it cannot take fails them all.
func (a announcer) AnnounceAll(ctx context.Context, svcs []nfvo.AnnouncedService) error {
	ls := make([]fsm.LocalService, 0, len(svcs))
	for _, svc := range svcs {
		l, err := localService(svc)
		if err != nil {
			return err
		}
		ls = append(ls, l)
	}
	return a.node.AnnounceAll(ctx, ls)
}

// localService is svc as the node originates it.
func localService(svc nfvo.AnnouncedService) (fsm.LocalService, error) {
	var proto wire.Proto
	switch svc.Protocol {
	case "tcp":
		proto = wire.TCP
	case "udp":
		proto = wire.UDP
	case "sctp":
		proto = wire.SCTP
	default:
		return fsm.LocalService{}, fmt.Errorf("service %s: protocol %q cannot be announced", svc.Name, svc.Protocol)
	}
	return fsm.LocalService{
		Name: svc.Name, Address: svc.Address, Port: svc.Port, Proto: proto,
		Ingress: svc.Ingress, Slots: svc.Slots,
	}, nil
}

func (a announcer) Withdraw(ctx context.Context, name string) error {
	return a.node.Withdraw(ctx, name)
}

// service is the API's view of the daemon: the orchestrator, and the
// inter-domain node when one runs (api.InterDomain).
type service struct {
	*nfvo.Orchestrator
	node *transport.Node
}

func (s service) InterDomainPeers(ctx context.Context) ([]nfvo.DomainPeer, error) {
	if s.node == nil {
		return nil, nfvo.ErrInterDomainOff
	}
	peers, err := s.node.Peers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]nfvo.DomainPeer, 0, len(peers))
	for _, p := range peers {
		out = append(out, nfvo.DomainPeer{
			Domain: p.ID, PeerID: p.PeerID.String(), State: p.State.String(),
			Connected: p.Connected, Since: p.Since, Dialer: p.Dialer,
			HoldTimeS: int(p.HoldTime / time.Second), RoutesReceived: p.Received, RoutesSent: p.Sent, Stale: p.Stale,
		})
	}
	return out, nil
}

func (s service) InterDomainRoutes(ctx context.Context) ([]nfvo.DomainRoute, error) {
	if s.node == nil {
		return nil, nfvo.ErrInterDomainOff
	}
	best, err := s.node.Routes(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]nfvo.DomainRoute, 0, len(best))
	for _, b := range best {
		r := b.Route
		dr := nfvo.DomainRoute{
			Service: r.Service, Address: r.Address.String(), Port: int(r.Port), Protocol: r.Proto.String(),
			Origin: r.Origin, Path: append([]string{}, r.Path...), Peer: b.Peer,
			Slots: int(r.Slots), Metric: int(r.Metric), Stale: b.Stale, Reason: b.Reason,
		}
		if r.Ingress.IsValid() {
			dr.Ingress = r.Ingress.String()
		}
		out = append(out, dr)
	}
	return out, nil
}

// overflow gives the service routers the best remote route of a service
// (nfvo.OverflowRoutes): the first candidate, in best-path order, learnt
// from a neighbour, not damped, with an ingress and free slots.
type overflow struct{ node *transport.Node }

// overflowRoutes is nil without an inter-domain node: no overflow.
func overflowRoutes(node *transport.Node) nfvo.OverflowRoutes {
	if node == nil {
		return nil
	}
	return overflow{node}
}

func (o overflow) Overflow(ctx context.Context, service string) (netip.Addr, string, bool) {
	paths, err := o.node.Candidates(ctx, service)
	if err != nil {
		return netip.Addr{}, "", false
	}
	for _, p := range paths {
		if p.Peer != "" && !p.Suppressed && p.Route.Ingress.IsValid() && p.Route.Slots > 0 {
			return p.Route.Ingress, p.Route.Origin, true
		}
	}
	return netip.Addr{}, "", false
}

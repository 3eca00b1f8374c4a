package nfvo

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// ErrInterDomainOff answers the inter-domain API when the daemon has no
// interdomain section: a 404 problem.
var ErrInterDomainOff = fmt.Errorf("inter-domain routing is not configured: %w", ErrNotFound)

// DomainPeer is a neighbour domain's session, as GET /interdomain/v1/peers
// shows it.
type DomainPeer struct {
	Domain string `json:"domain"`
	PeerID string `json:"peerId"`
	// State is the session state: Idle, OpenSent, OpenConfirm, Established.
	State string `json:"state"`
	// Connected: a libp2p stream is up, since Since.
	Connected bool      `json:"connected"`
	Since     time.Time `json:"since,omitzero"`
	// Dialer: this domain opens the stream (its peer id sorts lower).
	Dialer         bool `json:"dialer"`
	HoldTimeS      int  `json:"holdTimeS"`
	RoutesReceived int  `json:"routesReceived"`
	RoutesSent     int  `json:"routesSent"`
	// Stale: the peer is in graceful restart; its routes are kept stale.
	Stale bool `json:"stale,omitempty"`
}

// DomainRoute is a service's best route, as GET /interdomain/v1/routes
// shows it.
type DomainRoute struct {
	Service  string `json:"service"`
	Address  string `json:"address"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
	Origin   string `json:"origin"`
	// Path lists the domains to cross, nearest first, origin last.
	Path []string `json:"path"`
	// Peer is the neighbour the route was learnt from; empty when this
	// domain originates it.
	Peer    string `json:"peer,omitempty"`
	Slots   int    `json:"slots"`
	Metric  int    `json:"metric"`
	Ingress string `json:"ingress,omitempty"`
	Stale   bool   `json:"stale,omitempty"`
	// Reason says why this path won the best-path selection.
	Reason string `json:"reason"`
}

// AnnouncedService is a service this domain originates: an instantiated NS
// instance's SAP.
type AnnouncedService struct {
	// Name is "<nsd-id>/<sap-id>".
	Name     string
	Address  netip.Addr
	Port     uint16
	Protocol string // tcp, udp or sctp
	// Ingress is where other domains send the service's traffic: the SAP
	// address.
	Ingress netip.Addr
	// Slots is the sum of the free session slots of the NS instance's
	// instances with slots (0 if none).
	Slots uint32
}

// ServiceAnnouncer originates services in other domains; the daemon's
// inter-domain node implements it.
type ServiceAnnouncer interface {
	Announce(ctx context.Context, svc AnnouncedService) error
	// AnnounceAll announces services together (signed as one batch); if
	// one cannot be announced, none is.
	AnnounceAll(ctx context.Context, svcs []AnnouncedService) error
	Withdraw(ctx context.Context, name string) error
}

// AnnouncedServices returns the services this domain should originate: one
// per SAP (with an address and a port) of every NS instance that is
// instantiated and not being terminated, named "<nsd-id>/<sap-id>". NS
// instances of the same NSD share the name: the first (by id) gives the
// address, and their free slots add up.
func (o *Orchestrator) AnnouncedServices(ctx context.Context) ([]AnnouncedService, error) {
	all, err := o.ListNS(ctx)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b NsInstance) int { return strings.Compare(a.ID, b.ID) })
	byName := map[string]*AnnouncedService{}
	for _, ns := range all {
		if ns.State != NsInstantiated || !ns.Desired.Instantiated {
			continue
		}
		info, err := o.GetNSD(ctx, ns.NsdID+":"+ns.NsdVersion)
		if err != nil {
			o.log.Debug("interdomain: NSD of NS instance", "ns", ns.ID, "err", err)
			continue
		}
		nsd, err := decodeNSD(info)
		if err != nil {
			continue
		}
		var slots uint32
		counted := false
		for _, sap := range nsd.Sapds {
			addr, err := netip.ParseAddr(sap.Address)
			if err != nil || sap.Port <= 0 || sap.Port > 65535 {
				continue
			}
			if !counted {
				if slots, err = o.freeSlots(ctx, ns.ID); err != nil {
					return nil, err
				}
				counted = true
			}
			proto := strings.ToLower(sap.Protocol)
			if proto == "" {
				proto = "tcp"
			}
			name := nsd.ID + "/" + sap.ID
			if s := byName[name]; s != nil {
				s.Slots += slots
				continue
			}
			byName[name] = &AnnouncedService{Name: name, Address: addr, Port: uint16(sap.Port), Protocol: proto, Ingress: addr, Slots: slots}
		}
	}
	out := make([]AnnouncedService, 0, len(byName))
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		out = append(out, *byName[name])
	}
	return out, nil
}

// freeSlots sums the free slots of an NS instance's healthy instances:
// their latest reports, or, for an instance not read yet, its declared
// budget (it had every slot free when it became healthy), so that a new
// service is not first announced as full.
func (o *Orchestrator) freeSlots(ctx context.Context, nsID string) (uint32, error) {
	ns, err := o.GetNS(ctx, nsID)
	if err != nil {
		return 0, err
	}
	reports := o.slotReportsByVnfc(nsID)
	var free uint32
	for _, v := range ns.Vnfcs {
		if v.State != VnfcHealthy || v.Slots <= 0 {
			continue
		}
		switch r, ok := reports[v.ID]; {
		case !ok || r.ReportedAt.IsZero():
			free += uint32(v.Slots)
		case r.Error == "" && r.Available > 0:
			free += uint32(r.Available)
		}
	}
	return free, nil
}

// RunAnnouncer keeps a's originated services equal to AnnouncedServices,
// level-triggered: every interval it announces every wanted service (the
// announcer rate-limits slot changes) and withdraws those no longer
// wanted. It returns when ctx is done.
func (o *Orchestrator) RunAnnouncer(ctx context.Context, a ServiceAnnouncer, interval time.Duration) {
	announced := map[string]bool{}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		want, err := o.AnnouncedServices(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			o.log.Warn("interdomain: listing services to announce", "err", err)
		} else {
			keep := map[string]bool{}
			for _, svc := range want {
				keep[svc.Name] = true
			}
			for _, svc := range announceWanted(ctx, a, want, o.log) {
				if !announced[svc.Name] {
					o.log.Info("interdomain: announcing service", "service", svc.Name, "address", svc.Address, "port", svc.Port, "slots", svc.Slots)
				}
				announced[svc.Name] = true
			}
			for name := range announced {
				if keep[name] {
					continue
				}
				if err := a.Withdraw(ctx, name); err != nil {
					o.log.Warn("interdomain: withdraw", "service", name, "err", err)
					continue
				}
				o.log.Info("interdomain: withdrew service", "service", name)
				delete(announced, name)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-o.changed:
		}
	}
}

// announceWanted announces want and returns the services announced: all
// of them in one AnnounceAll (one batch signature for those that changed),
// or, if that fails, one by one, so that a service that cannot be
// announced does not hold back the others.
func announceWanted(ctx context.Context, a ServiceAnnouncer, want []AnnouncedService, log *slog.Logger) []AnnouncedService {
	if len(want) == 0 {
		return nil
	}
	err := a.AnnounceAll(ctx, want)
	if err == nil {
		return want
	}
	if ctx.Err() != nil {
		return nil
	}
	log.Debug("interdomain: announcing together failed, one by one", "services", len(want), "err", err)
	ok := make([]AnnouncedService, 0, len(want))
	for _, svc := range want {
		if err := a.Announce(ctx, svc); err != nil {
			log.Warn("interdomain: announce", "service", svc.Name, "err", err)
			continue
		}
		ok = append(ok, svc)
	}
	return ok
}

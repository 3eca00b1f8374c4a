package ovn

import (
	"fmt"
	"strings"

	"github.com/stitchnfv/stitch/sfc/nbdb"
)

type wantRouter struct {
	key      string
	row      nbdb.LogicalRouter
	ports    []wantRPort
	policies []wantPolicy
	lbKeys   []string // load balancers attached to the router
}

type wantRPort struct {
	key string
	row nbdb.LogicalRouterPort
}

type wantPolicy struct {
	key string
	row nbdb.LogicalRouterPolicy
}

// routers adds the routers of want to d: their rows, their router ports,
// and on each attached switch the peer port of type router.
func (n namer) routers(d *desired, want Network) {
	for _, r := range want.Routers {
		key := "router/" + r.Name
		w := wantRouter{key: key, row: nbdb.LogicalRouter{Name: n.routerName(r.Name), ExternalIDs: n.tags(key)}}
		for _, rp := range r.Ports {
			lrp := n.routerPortName(r.Name, rp.Switch)
			pkey := "rport/" + r.Name + "/" + rp.Switch
			w.ports = append(w.ports, wantRPort{key: pkey, row: nbdb.LogicalRouterPort{
				Name:        lrp,
				MAC:         strings.ToLower(rp.MAC),
				Networks:    []string{rp.CIDR.String()},
				ExternalIDs: n.tags(pkey),
			}})
			// The switch side: "router" addresses make the switch learn the
			// MAC and IPs from the peer, so ARP for the gateway is answered
			// without flooding.
			skey := "rpeer/" + r.Name + "/" + rp.Switch
			d.ports = append(d.ports, wantPort{key: skey, switchKey: "switch/" + rp.Switch, row: nbdb.LogicalSwitchPort{
				Name:        n.routerPeerName(r.Name, rp.Switch),
				Type:        "router",
				Addresses:   []string{"router"},
				Options:     map[string]string{"router-port": lrp},
				ExternalIDs: n.tags(skey),
			}})
		}
		for _, pol := range r.Policies {
			match := pol.Match
			if pol.Switch != "" {
				match = fmt.Sprintf("inport == %q && (%s)", n.routerPortName(r.Name, pol.Switch), pol.Match)
			}
			var hops []string
			for _, h := range pol.Nexthops {
				hops = append(hops, h.String())
			}
			// Identity is what OVN keys a policy by (router, priority,
			// match); next hops change in place when a function scales.
			pkey := fmt.Sprintf("policy/%s/%d/%s", r.Name, pol.Priority, match)
			w.policies = append(w.policies, wantPolicy{key: pkey, row: nbdb.LogicalRouterPolicy{
				Priority:    pol.Priority,
				Match:       match,
				Action:      nbdb.LogicalRouterPolicyActionReroute,
				Nexthops:    hops,
				ExternalIDs: n.tags(pkey),
			}})
		}
		d.routers = append(d.routers, w)
	}
}

package nfvo

import (
	"context"
	"maps"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/internal/store"
	"github.com/stitchnfv/stitch/sfc/ovn"
	"github.com/stitchnfv/stitch/vim"
	"github.com/stitchnfv/stitch/vnfm"
)

// examplePlan onboards the examples and returns the complex service's plan
// for a new NS instance.
func examplePlan(t *testing.T) (NsInstance, *plan) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "stitch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mgr, err := vnfm.New(nil, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	o, err := New(Config{Store: st, VNFM: mgr})
	if err != nil {
		t.Fatal(err)
	}
	onboardExampleFiles(t, o)
	ns, err := o.CreateNS(ctx, CreateNsRequest{NsdID: "complex-service", Name: "wiring"})
	if err != nil {
		t.Fatal(err)
	}
	var p *plan
	err = st.View(ctx, func(tx store.Tx) (err error) {
		p, err = loadPlan(tx, ns, "default")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ns, p
}

func exampleNetworks(nsID string) []vim.Network {
	return []vim.Network{
		{ID: networkName(nsID, "access"), Name: networkName(nsID, "access"), CIDR: "10.10.0.0/24", Gateway: "10.10.0.1",
			Access: []vim.AccessPort{{Site: "edge", IP: "10.10.0.2", MAC: "02:00:00:00:00:02"}}},
		{ID: networkName(nsID, "service"), Name: networkName(nsID, "service"), CIDR: "10.10.1.0/24", Gateway: "10.10.1.1",
			Access: []vim.AccessPort{{Site: "core", IP: "10.10.1.3", MAC: "02:00:00:00:01:03"}, {Site: "edge", IP: "10.10.1.2", MAC: "02:00:00:00:01:02"}}},
		{ID: "another-ns-net", Name: "0000deadbeef-access", CIDR: "10.10.0.0/24"},
	}
}

func exampleVnfcs(nsID string, fwState VnfcState) []Vnfc {
	mk := func(profile, vdu string, index int, ip string, state VnfcState) Vnfc {
		return Vnfc{ID: vnfcName(nsID, profile, vdu, false, index), NsID: nsID, Profile: profile, VDU: vdu,
			Index: index, State: state, Addresses: map[string]string{"data": ip}}
	}
	return []Vnfc{
		mk("fw", "firewall", 0, "10.10.0.16", VnfcHealthy),
		mk("fw", "firewall", 1, "10.10.0.17", fwState),
		mk("lb", "lb", 0, "10.10.1.16", VnfcHealthy),
		mk("web", "web", 0, "10.10.1.17", VnfcHealthy),
		mk("backend", "backend", 0, "10.10.1.18", VnfcHealthy),
	}
}

func TestDesiredWiringOfTheComplexService(t *testing.T) {
	ns, p := examplePlan(t)
	for _, tc := range []struct {
		name     string
		fwState  VnfcState
		backends []string
	}{
		{"second firewall starting", VnfcStarting, []string{"10.10.0.16:8080"}},
		{"both firewalls healthy", VnfcHealthy, []string{"10.10.0.16:8080", "10.10.0.17:8080"}},
		{"second firewall draining", VnfcDeleting, []string{"10.10.0.16:8080"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := desiredWiring(ns.ID, p, exampleNetworks(ns.ID), exampleVnfcs(ns.ID, tc.fwState))
			if err != nil {
				t.Fatal(err)
			}
			var switches []string
			ports := map[string]ovn.Port{}
			for _, sw := range want.Switches {
				switches = append(switches, sw.Name)
				for _, port := range sw.Ports {
					ports[sw.Name+"/"+port.Name] = port
				}
			}
			if !slices.Equal(switches, []string{"access", "service"}) {
				t.Fatalf("switches %v: want this NS's access and service only", switches)
			}
			fw1 := ports["access/fw-1-data"]
			if fw1.MAC != instanceMAC(vnfcName(ns.ID, "fw", "firewall", false, 1), "data") || fw1.IPs[0] != netip.MustParseAddr("10.10.0.17") {
				t.Fatalf("fw-1 port %+v: a port exists for every recorded instance, with its derived MAC", fw1)
			}
			if _, ok := ports["service/site-core-service"]; !ok {
				t.Fatalf("ports %v: no access port for site core", slices.Sorted(maps.Keys(ports)))
			}
			if len(want.Routers) != 1 || len(want.Routers[0].Ports) != 2 || want.Routers[0].Ports[1].CIDR != netip.MustParsePrefix("10.10.1.1/24") {
				t.Fatalf("routers %+v: want one router on both gateways", want.Routers)
			}
			from := map[string][]string{}
			for _, g := range want.PortGroups {
				for _, r := range g.Allow {
					if len(r.FromCIDRs) > 0 {
						// Health checks (8080) and gNMI subscriptions (9339).
						if (r.Port != 8080 && r.Port != 9339) || len(r.FromCIDRs) != 3 {
							t.Errorf("group %s probe rule %+v: want tcp/8080 and 9339 from the 3 access addresses", g.Name, r)
						}
						continue
					}
					from[g.Name] = append(from[g.Name], strings.Join(r.FromGroups, ","))
				}
			}
			for group, callers := range map[string]string{"fw": "", "lb": "fw", "web": "lb", "backend": "web", "kvdb": "backend"} {
				if !slices.Equal(from[group], []string{callers}) {
					t.Errorf("group %s admits its port from %q, want %q", group, from[group], callers)
				}
			}
			if len(want.LoadBalancers) != 1 {
				t.Fatalf("load balancers %+v: want one for the SAP", want.LoadBalancers)
			}
			lb := want.LoadBalancers[0]
			var got []string
			for _, b := range lb.Backends {
				got = append(got, b.String())
			}
			if lb.VIP.String() != "10.10.0.100:8080" || !slices.Equal(got, tc.backends) ||
				!slices.Equal(lb.Switches, []string{"access", "service"}) || !slices.Equal(lb.Routers, []string{routerName}) {
				t.Fatalf("SAP balancer %+v: want VIP 10.10.0.100:8080 → %v on both switches and the router", lb, tc.backends)
			}
		})
	}
}

func TestDesiredWiringWithoutHealthyEntryHasNoBalancer(t *testing.T) {
	ns, p := examplePlan(t)
	vnfcs := exampleVnfcs(ns.ID, VnfcStarting)
	vnfcs[0].State = VnfcPending
	want, err := desiredWiring(ns.ID, p, exampleNetworks(ns.ID), vnfcs)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.LoadBalancers) != 0 {
		t.Fatalf("balancers %+v: a VIP without a healthy backend would black-hole", want.LoadBalancers)
	}
}

func TestWiringNames(t *testing.T) {
	nsID := "0123456789ab-cdef-0123-4567-89abcdef0123"
	long := vnfcName(nsID, strings.Repeat("p", 40), "vdu", true, 3)
	for _, name := range []string{
		instancePortName(nsID, vnfcName(nsID, "fw", "firewall", false, 0), "data"),
		instancePortName(nsID, long, "data"),
		accessPortName(strings.Repeat("v", 40), "edge"),
	} {
		if len(name) > 40 || name == "" {
			t.Errorf("port name %q: NB names the renderer accepts are at most 40 characters", name)
		}
	}
	if instancePortName(nsID, long, "data") == instancePortName(nsID, long, "ctrl") {
		t.Error("two connection points of one instance got one port name")
	}
	a, b := instanceMAC("x", "data"), instanceMAC("x", "data")
	mac, err := net.ParseMAC(a)
	if err != nil || a != b || mac[0]&3 != 2 {
		t.Errorf("MAC %s (%v): want stable, unicast and locally administered", a, err)
	}
}

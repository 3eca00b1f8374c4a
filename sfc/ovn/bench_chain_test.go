package ovn_test

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/sfc/ovn"
	"github.com/stitchnfv/stitch/sfc/ovntest"
)

// chainedBenchCount is the number of chained NS instances
// BenchmarkRenderChained1000 renders: 1,000, unless STITCH_BENCH_NS says
// otherwise or -short shrinks it to a quick smoke run.
func chainedBenchCount(b *testing.B) int {
	if s := os.Getenv("STITCH_BENCH_NS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			b.Fatalf("STITCH_BENCH_NS=%q: want a positive number", s)
		}
		return n
	}
	if testing.Short() {
		return 20
	}
	return benchCount
}

// chainedNS is one NS instance of the shape stitch's orchestrator renders
// for the example complex service (examples/nsd/complex-service.yaml, see
// desiredWiring in nfvo/wiring.go), plus a two-hop reroute chain:
//
//   - switches access (10.10.0.0/24) and service (10.10.1.0/24), each with
//     a site access port (.2);
//   - ports fw on access; lb, web, backend ×3 and kvdb on service; fw and
//     lb, the chain's hops, forward others' packets;
//   - router r with a port on each switch (gateways .1);
//   - a port group per constituent: its tcp/8080 admitted from the previous
//     constituent (fw, the entry, from anywhere) and from the sites' access
//     addresses (the probes), the rest dropped;
//   - the service access point's VIP 10.10.0.100:8080 balanced over fw on
//     both switches and the router (proxy ARP on the access peer port);
//   - a chain of two Logical_Router_Policy hops: tcp/9000 from access to
//     the service subnet rerouted to fw, and from service to the access
//     subnet rerouted to lb.
//
// Per NS: 2 switches, 11 switch ports (7 of instances, 2 of sites, 2
// router peers), 1 router, 2 router ports, 2 policies, 5 port groups, 15
// ACLs (2 allow and the drop per group) and 1 load balancer.
func chainedNS(i int) (string, ovn.Network) {
	id := fmt.Sprintf("%08x-%04x-4000-8000-00000000c4a1", i, i>>16)
	ip := func(net, host int) netip.Addr { return netip.AddrFrom4([4]byte{10, 10, byte(net), byte(host)}) }
	mac := func(net, host int) string {
		return fmt.Sprintf("0a:%02x:%02x:%02x:%02x:%02x", i>>16&0xff, i>>8&0xff, i&0xff, net, host)
	}
	port := func(name string, net, host int) ovn.Port {
		return ovn.Port{Name: name, MAC: mac(net, host), IPs: []netip.Addr{ip(net, host)}}
	}
	fw, lb := port("fw0-eth0", 0, 10), port("lb0-eth0", 1, 10)
	fw.Forwards, lb.Forwards = true, true
	access := netip.MustParsePrefix("10.10.0.0/24")
	service := netip.MustParsePrefix("10.10.1.0/24")
	probes := []netip.Prefix{netip.PrefixFrom(ip(0, 2), 32), netip.PrefixFrom(ip(1, 2), 32)}
	group := func(name string, from []string, ports ...string) ovn.PortGroup {
		return ovn.PortGroup{Name: name, Ports: ports, Allow: []ovn.Rule{
			{Protocol: "tcp", Port: 8080, FromGroups: from},
			{Protocol: "tcp", Port: 8080, FromCIDRs: probes},
		}}
	}
	return id, ovn.Network{
		Switches: []ovn.Switch{
			{Name: "access", CIDR: access, Ports: []ovn.Port{port("site-local-access", 0, 2), fw}},
			{Name: "service", CIDR: service, Ports: []ovn.Port{
				port("site-local-service", 1, 2), lb, port("web0-eth0", 1, 20),
				port("backend0-eth0", 1, 30), port("backend1-eth0", 1, 31), port("backend2-eth0", 1, 32),
				port("kvdb0-eth0", 1, 40),
			}},
		},
		PortGroups: []ovn.PortGroup{
			group("fw", nil, "fw0-eth0"),
			group("lb", []string{"fw"}, "lb0-eth0"),
			group("web", []string{"lb"}, "web0-eth0"),
			group("backend", []string{"web"}, "backend0-eth0", "backend1-eth0", "backend2-eth0"),
			group("kvdb", []string{"backend"}, "kvdb0-eth0"),
		},
		Routers: []ovn.Router{{
			Name: "r",
			Ports: []ovn.RouterPort{
				{Switch: "access", MAC: mac(0, 1), CIDR: netip.PrefixFrom(ip(0, 1), 24)},
				{Switch: "service", MAC: mac(1, 1), CIDR: netip.PrefixFrom(ip(1, 1), 24)},
			},
			Policies: []ovn.Policy{
				{Priority: 200, Switch: "access", Match: "ip4.dst == 10.10.1.0/24 && tcp.dst == 9000", Nexthops: []netip.Addr{ip(0, 10)}},
				{Priority: 190, Switch: "service", Match: "ip4.dst == 10.10.0.0/24 && tcp.dst == 9000", Nexthops: []netip.Addr{ip(1, 10)}},
			},
		}},
		LoadBalancers: []ovn.LoadBalancer{{
			Name: "sap-web", VIP: netip.MustParseAddrPort("10.10.0.100:8080"), Protocol: "tcp",
			Backends: []netip.AddrPort{netip.AddrPortFrom(ip(0, 10), 8080)},
			Switches: []string{"access", "service"}, Routers: []string{"r"},
		}},
	}
}

// chainedRows is the number of NB rows per table of one chainedNS.
var chainedRows = map[string]int{
	"Logical_Switch":        2,
	"Logical_Switch_Port":   11,
	"Logical_Router":        1,
	"Logical_Router_Port":   2,
	"Logical_Router_Policy": 2,
	"Port_Group":            5,
	"ACL":                   15,
	"Load_Balancer":         1,
}

// chainedNbctl is the same NS as ovn-nbctl commands, one slice per NB
// object, written as an operator would: the object's own command, then a
// generic set for the tags stitch writes. ACLs and router policies go
// untagged: acl-add and lr-policy-add cannot set external_ids, and their
// rows have no name to set them by afterwards. Names and matches are the
// renderer's, so both sides end with the same rows (which the benchmark
// checks column by column).
func chainedNbctl(id string, want ovn.Network) [][]string {
	p := strings.ReplaceAll(id, "-", "")[:12]
	tags := func(object string) []string {
		return []string{"external_ids:stitch.owner=stitch", "external_ids:stitch.ns-instance=" + id, "external_ids:stitch.object=" + object}
	}
	group := func(name string) string { return "pg_" + p + "_" + name }
	var objs [][]string
	for _, sw := range want.Switches {
		name := p + "-" + sw.Name
		objs = append(objs, append([]string{"ls-add", name, "--", "set", "Logical_Switch", name, "other_config:subnet=" + sw.CIDR.String()}, tags("switch/"+sw.Name)...))
		for _, port := range sw.Ports {
			lsp := p + "-" + port.Name
			addr := port.MAC + " " + port.IPs[0].String()
			sec := addr
			if port.Forwards {
				sec = port.MAC
			}
			objs = append(objs, append([]string{"lsp-add", name, lsp, "--", "lsp-set-addresses", lsp, addr,
				"--", "lsp-set-port-security", lsp, sec, "--", "set", "Logical_Switch_Port", lsp}, tags("port/"+port.Name)...))
		}
	}
	arpProxy := map[string]string{}
	for _, lb := range want.LoadBalancers {
		for _, sw := range want.Switches {
			if slices.Contains(lb.Switches, sw.Name) && sw.CIDR.Contains(lb.VIP.Addr()) {
				arpProxy[sw.Name] = lb.VIP.Addr().String()
			}
		}
	}
	for _, r := range want.Routers {
		lr := p + "-" + r.Name
		objs = append(objs, append([]string{"lr-add", lr, "--", "set", "Logical_Router", lr}, tags("router/"+r.Name)...))
		for _, rp := range r.Ports {
			lrp := lr + ":" + rp.Switch
			objs = append(objs, append([]string{"lrp-add", lr, lrp, rp.MAC, rp.CIDR.String(), "--", "set", "Logical_Router_Port", lrp},
				tags("rport/"+r.Name+"/"+rp.Switch)...))
			peer := lrp + ":peer"
			opts := []string{"router-port=" + lrp}
			if vip, ok := arpProxy[rp.Switch]; ok {
				opts = append(opts, "arp_proxy="+vip)
			}
			objs = append(objs, append(append([]string{"lsp-add", p + "-" + rp.Switch, peer, "--", "lsp-set-type", peer, "router",
				"--", "lsp-set-addresses", peer, "router", "--", "lsp-set-options", peer}, opts...),
				append([]string{"--", "set", "Logical_Switch_Port", peer}, tags("rpeer/"+r.Name+"/"+rp.Switch)...)...))
		}
	}
	for _, g := range want.PortGroups {
		pg := group(g.Name)
		cmd := []string{"pg-add", pg}
		for _, port := range g.Ports {
			cmd = append(cmd, p+"-"+port)
		}
		objs = append(objs, append(append(cmd, "--", "set", "Port_Group", pg), tags("group/"+g.Name)...))
		for _, r := range g.Allow {
			m := "outport == @" + pg + " && ip4"
			var srcs []string
			for _, from := range r.FromGroups {
				srcs = append(srcs, "$"+group(from)+"_ip4")
			}
			for _, from := range r.FromCIDRs {
				srcs = append(srcs, from.String())
			}
			switch len(srcs) {
			case 0:
			case 1:
				m += " && ip4.src == " + srcs[0]
			default:
				m += " && ip4.src == {" + strings.Join(srcs, ", ") + "}"
			}
			m += fmt.Sprintf(" && %s.dst == %d", r.Protocol, r.Port)
			objs = append(objs, []string{"acl-add", pg, "to-lport", "2000", m, "allow-related"})
		}
		objs = append(objs, []string{"acl-add", pg, "to-lport", "1000", "outport == @" + pg + " && ip", "drop"})
	}
	for _, r := range want.Routers {
		lr := p + "-" + r.Name
		for _, pol := range r.Policies {
			var hops []string
			for _, h := range pol.Nexthops {
				hops = append(hops, h.String())
			}
			match := fmt.Sprintf("inport == %q && (%s)", lr+":"+pol.Switch, pol.Match)
			objs = append(objs, []string{"lr-policy-add", lr, strconv.Itoa(pol.Priority), match, "reroute", strings.Join(hops, ",")})
		}
	}
	for _, lb := range want.LoadBalancers {
		name := p + "-" + lb.Name
		var backends []string
		for _, be := range lb.Backends {
			backends = append(backends, be.String())
		}
		objs = append(objs, append([]string{"lb-add", name, lb.VIP.String(), strings.Join(backends, ","), lb.Protocol,
			"--", "set", "Load_Balancer", name}, tags("lb/"+lb.Name)...))
		for _, sw := range lb.Switches {
			objs = append(objs, []string{"ls-lb-add", p + "-" + sw, name})
		}
		for _, r := range lb.Routers {
			objs = append(objs, []string{"lr-lb-add", p + "-" + r, name})
		}
	}
	return objs
}

// BenchmarkRenderChained1000 renders 1,000 chained NS instances (see
// chainedNS) through the renderer and creates the same rows with
// ovn-nbctl, one call per NS (its commands chained with --), each into a
// fresh NB with northd attached, and reports the wall-clock seconds of
// each and their ratio. With STITCH_BENCH_PER_OBJECT=1 it also times one
// ovn-nbctl call per object (well over an hour at 1,000 NS). Every run
// checks that all contenders wrote the same rows: the row count of every
// table and, column by column, their contents (UUIDs aside). Run it with
//
//	go test -run '^$' -bench RenderChained -benchtime 1x -timeout 60m ./sfc/ovn/
//
// STITCH_BENCH_NS=n renders n NS instead of 1,000 (-short: 20).
func BenchmarkRenderChained1000(b *testing.B) {
	ctx := context.Background()
	count := chainedBenchCount(b)
	rows := map[string]int{}
	for table, n := range chainedRows {
		rows[table] = n * count
	}
	perObjectToo := os.Getenv("STITCH_BENCH_PER_OBJECT") == "1"
	var lib, chained, perObject time.Duration
	for b.Loop() {
		var libEnv, chainedEnv, perObjectEnv *ovntest.Env
		lib, libEnv = timedRows(b, rows, renderEach(ctx, b, count, chainedNS))
		chained, chainedEnv = timedRows(b, rows, nbctlEach(ctx, b, count, func(i int) [][]string { return chainedNbctl(chainedNS(i)) }))
		sameContents(b, libEnv, chainedEnv)
		if perObjectToo {
			perObject, perObjectEnv = timedRows(b, rows, func(env *ovntest.Env) {
				for i := range count {
					for _, obj := range chainedNbctl(chainedNS(i)) {
						if _, err := env.Ctl(ctx, "ovn-nbctl", append([]string{"--db=" + env.NB()}, obj...)...); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
			sameContents(b, libEnv, perObjectEnv)
		}
	}
	b.ReportMetric(float64(count), "ns")
	b.ReportMetric(lib.Seconds(), "libovsdb-s")
	b.ReportMetric(chained.Seconds(), "nbctl-per-ns-s")
	b.ReportMetric(chained.Seconds()/lib.Seconds(), "x-faster-than-per-ns")
	if perObjectToo {
		b.ReportMetric(perObject.Seconds(), "nbctl-per-object-s")
		b.ReportMetric(perObject.Seconds()/lib.Seconds(), "x-faster-than-per-object")
	}
}

// contentColumns are the columns compared between contenders, per table:
// all the renderer writes except the names and tags of ACLs and router
// policies, which ovn-nbctl cannot set (see chainedNbctl).
var contentColumns = map[string]string{
	"Logical_Switch":        "name,other_config,external_ids,ports,acls,load_balancer",
	"Logical_Switch_Port":   "name,type,addresses,port_security,options,enabled,external_ids",
	"Logical_Router":        "name,ports,policies,load_balancer,options,external_ids",
	"Logical_Router_Port":   "name,mac,networks,peer,options,external_ids",
	"Logical_Router_Policy": "priority,match,action,nexthop,nexthops,options",
	"Port_Group":            "name,ports,acls,external_ids",
	"ACL":                   "direction,priority,match,action,log,severity,label,options",
	"Load_Balancer":         "name,vips,protocol,options,selection_fields,external_ids",
}

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// sameContents fails b unless NB of got holds the same rows as NB of want
// in contentColumns (references compared by count: UUIDs differ).
func sameContents(b *testing.B, want, got *ovntest.Env) {
	b.Helper()
	dump := func(env *ovntest.Env, table string) []string {
		out := env.NBCtl(b, "--format=csv", "--no-headings", "--columns="+contentColumns[table], "list", table)
		lines := strings.Split(strings.TrimSpace(uuidRE.ReplaceAllString(out, "<uuid>")), "\n")
		slices.Sort(lines)
		return lines
	}
	for _, table := range slices.Sorted(maps.Keys(contentColumns)) {
		w, g := dump(want, table), dump(got, table)
		if slices.Equal(w, g) {
			continue
		}
		for i := range min(len(w), len(g)) {
			if w[i] != g[i] {
				b.Fatalf("%s differs between the renderer and ovn-nbctl (%d vs %d rows); first difference:\nrenderer: %s\nnbctl:    %s",
					table, len(w), len(g), w[i], g[i])
			}
		}
		b.Fatalf("%s has %d rows from the renderer, %d from ovn-nbctl", table, len(w), len(g))
	}
}

package ovn_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/sfc/ovn"
	"github.com/stitchnfv/stitch/sfc/ovntest"
)

// nsS names the source-rule data-plane test's NS; names start c0ffee000004-.
const nsS = "c0ffee00-0004-4000-8000-000000000004"

var (
	srcClient = workload{"client", "0a:00:00:00:01:0a", "10.0.1.10"}
	srcLB     = workload{"lb0", "0a:00:00:00:01:0b", "10.0.1.11"}
	srcWeb    = workload{"web0", "0a:00:00:00:01:14", "10.0.1.20"}
)

// fromLB puts a client, a load balancer instance and web on one switch;
// web admits tcp/8080 only from the lb group and its health-check port
// tcp/9100 only from the probe address (the client's, here).
func fromLB() ovn.Network {
	var ports []ovn.Port
	for _, w := range []workload{srcClient, srcLB, srcWeb} {
		ports = append(ports, ovn.Port{Name: w.name, MAC: w.mac, IPs: []netip.Addr{ip(w.ip)}})
	}
	return ovn.Network{
		Switches: []ovn.Switch{{Name: "lan", CIDR: cidr("10.0.1.0/24"), Ports: ports}},
		PortGroups: []ovn.PortGroup{
			{Name: "lb", Ports: []string{srcLB.name}, Allow: []ovn.Rule{{Protocol: "tcp", Port: 8080}}},
			{Name: "web", Ports: []string{srcWeb.name}, Allow: []ovn.Rule{
				{Protocol: "tcp", Port: 8080, FromGroups: []string{"lb"}},
				{Protocol: "tcp", Port: 9100, FromCIDRs: []netip.Prefix{cidr(srcClient.ip + "/32")}},
			}},
		},
	}
}

func TestDataplaneSourceRestrictedRules(t *testing.T) {
	t.Parallel()
	env := ovntest.Start(t)
	ovntest.RequireChassis(t)
	start := time.Now()
	render(t, dial(t, env), nsS, fromLB())
	ch := env.AddChassis(t, "hv1", ovntest.ChassisOptions{})

	const prefix = "c0ffee000004-"
	ns := map[string]string{}
	for _, w := range []workload{srcClient, srcLB, srcWeb} {
		ns[w.name] = ch.AttachPort(t, prefix+w.name, w.mac, w.ip+"/24")
	}
	env.NBCtl(t, "--wait=hv", "--timeout=10", "sync")
	t.Logf("OVN up and converged in %v", time.Since(start))
	for _, port := range []int{8080, 9100} {
		ovntest.ServeEcho(t, ns[srcWeb.name], fmt.Sprintf("%s:%d", srcWeb.ip, port))
	}

	for _, tc := range []struct {
		from    workload
		port    int
		allowed bool
	}{
		{srcLB, 8080, true},      // from the lb group
		{srcClient, 8080, false}, // not from the lb group
		{srcClient, 9100, true},  // from the probe address
		{srcLB, 9100, false},     // not from the probe address
	} {
		addr := fmt.Sprintf("%s:%d", srcWeb.ip, tc.port)
		err := ovntest.Echo(ns[tc.from.name], addr, blockedWait)
		switch {
		case tc.allowed && err != nil:
			t.Errorf("%s → web %s: %v, want an echo", tc.from.name, addr, err)
		case !tc.allowed && err == nil:
			t.Errorf("%s → web %s got through; the ACL should drop it", tc.from.name, addr)
		case !tc.allowed && !strings.Contains(err.Error(), "timeout"):
			t.Errorf("%s → web %s: %v, want a timeout (silent drop)", tc.from.name, addr, err)
		}
	}
	// ARP is not IP: the client resolved web's address although its TCP
	// was dropped.
	if out, err := env.Ctl(t.Context(), "ip", "-n", ns[srcClient.name], "neigh", "show", srcWeb.ip); err != nil ||
		!strings.Contains(out, srcWeb.mac) {
		t.Errorf("client's neighbour entry for web: %q, %v; want web's MAC", out, err)
	}
	t.Logf("traffic checked after %v", time.Since(start))

	const pg = "@pg_c0ffee000004_web"
	trace := func(from workload, dport int) string {
		flow := fmt.Sprintf(`inport == "%[1]s%[2]s" && eth.src == %[3]s && eth.dst == %[4]s && `+
			`ip4.src == %[5]s && ip4.dst == %[6]s && ip.ttl == 64 && tcp.src == 40000 && tcp.dst == %[7]d`,
			prefix, from.name, from.mac, srcWeb.mac, from.ip, srcWeb.ip, dport)
		return ovntest.Trace(t, env, prefix+"lan", flow, "--ct=new", "--ct=new")
	}
	delivered := `output to "` + prefix + `web0"`
	if out := trace(srcLB, 8080); !strings.Contains(aclStage(out), "(outport == "+pg+" && ip4 && ip4.src == $pg_c0ffee000004_lb_ip4 && tcp.dst == 8080)") ||
		!strings.Contains(out, delivered) {
		t.Errorf("ovn-trace of lb0 → web:8080: want web's source-restricted allow ACL and delivery:\n%s", out)
	}
	if out := trace(srcClient, 8080); !strings.Contains(aclStage(out), "(outport == "+pg+" && ip)") ||
		!strings.Contains(aclStage(out), "drop;") || strings.Contains(out, delivered) {
		t.Errorf("ovn-trace of client → web:8080: want web's default-deny ACL to drop it:\n%s", out)
	}
}

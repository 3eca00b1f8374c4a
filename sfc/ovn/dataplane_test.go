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

// nsD names the data-plane test's NS; its names start c0ffee000001-.
const nsD = "c0ffee00-0001-4000-8000-000000000001"

// blockedWait is how long a dial the ACL drops is given before it counts
// as blocked: a drop sends nothing back, so only a timeout can tell.
const blockedWait = 700 * time.Millisecond

type workload struct {
	name, mac, ip string
}

var (
	wClient = workload{"client", "0a:00:00:00:01:0a", "10.0.1.10"}
	wWeb    = workload{"web0", "0a:00:00:00:01:14", "10.0.1.20"}
	wDB     = workload{"db0", "0a:00:00:00:01:1e", "10.0.1.30"}
)

// oneSwitch puts client, web and db on one switch; only web is behind a
// port group, which admits tcp/8080 and nothing else.
func oneSwitch() ovn.Network {
	var ports []ovn.Port
	for _, w := range []workload{wClient, wWeb, wDB} {
		ports = append(ports, ovn.Port{Name: w.name, MAC: w.mac, IPs: []netip.Addr{netip.MustParseAddr(w.ip)}})
	}
	return ovn.Network{
		Switches: []ovn.Switch{{Name: "lan", CIDR: netip.MustParsePrefix("10.0.1.0/24"), Ports: ports}},
		PortGroups: []ovn.PortGroup{
			{Name: "web", Ports: []string{wWeb.name}, Allow: []ovn.Rule{{Protocol: "tcp", Port: 8080}}},
		},
	}
}

func TestDataplaneEnforcesRenderedACLs(t *testing.T) {
	t.Parallel()
	env := ovntest.Start(t)
	ovntest.RequireChassis(t)
	start := time.Now()
	render(t, dial(t, env), nsD, oneSwitch())
	ch := env.AddChassis(t, "hv1", ovntest.ChassisOptions{})

	const prefix = "c0ffee000001-"
	ns := map[string]string{}
	for _, w := range []workload{wClient, wWeb, wDB} {
		ns[w.name] = ch.AttachPort(t, prefix+w.name, w.mac, w.ip+"/24")
	}
	// The ACLs are in NB; --wait=hv returns once every chassis has applied
	// the resulting flows, so no packet below races OVN.
	env.NBCtl(t, "--wait=hv", "--timeout=10", "sync")
	t.Logf("OVN up and converged in %v", time.Since(start))

	// Servers listen on both ports everywhere, so that only the ACL can
	// make a connection fail.
	for _, w := range []workload{wWeb, wDB} {
		for _, port := range []int{8080, 9090} {
			ovntest.ServeEcho(t, ns[w.name], fmt.Sprintf("%s:%d", w.ip, port))
		}
	}

	for _, tc := range []struct {
		to      workload
		port    int
		allowed bool
	}{
		{wWeb, 8080, true},  // exposed by web's descriptor
		{wWeb, 9090, false}, // web's default deny
		{wDB, 9090, true},   // db has no port group: nothing filters it
		{wDB, 8080, true},
	} {
		addr := fmt.Sprintf("%s:%d", tc.to.ip, tc.port)
		err := ovntest.Echo(ns[wClient.name], addr, blockedWait)
		switch {
		case tc.allowed && err != nil:
			t.Errorf("client → %s %s: %v, want an echo", tc.to.name, addr, err)
		case !tc.allowed && err == nil:
			t.Errorf("client → %s %s got through; the ACL should drop it", tc.to.name, addr)
		case !tc.allowed && !strings.Contains(err.Error(), "timeout"):
			// A refusal would mean a RST came back: something other than
			// the drop ACL answered.
			t.Errorf("client → %s %s: %v, want a timeout (silent drop)", tc.to.name, addr, err)
		}
	}
	t.Logf("traffic checked after %v", time.Since(start))

	// ovn-trace replays the same flows through SB's logical flows. Both
	// conntrack lookups are "new" so that the to-lport ACL stage sees the
	// first packet of a connection, as the real SYN did.
	const pg = "@pg_c0ffee000001_web"
	trace := func(dport int) string {
		flow := fmt.Sprintf(`inport == "%[1]sclient" && eth.src == %[2]s && eth.dst == %[3]s && `+
			`ip4.src == %[4]s && ip4.dst == %[5]s && ip.ttl == 64 && tcp.src == 40000 && tcp.dst == %[6]d`,
			prefix, wClient.mac, wWeb.mac, wClient.ip, wWeb.ip, dport)
		out, err := env.Ctl(t.Context(), "ovn-trace", "--db="+env.SB(), "--ct=new", "--ct=new", prefix+"lan", flow)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	delivered := `output to "` + prefix + `web0"`
	if out := trace(8080); !strings.Contains(aclStage(out), "(outport == "+pg+" && ip4 && tcp.dst == 8080)") ||
		!strings.Contains(out, delivered) {
		t.Errorf("ovn-trace of tcp/8080: want web's allow ACL and delivery:\n%s", out)
	}
	if out := trace(9090); !strings.Contains(aclStage(out), "(outport == "+pg+" && ip)") ||
		!strings.Contains(aclStage(out), "drop;") || strings.Contains(out, delivered) {
		t.Errorf("ovn-trace of tcp/9090: want web's default-deny ACL to drop it:\n%s", out)
	}
}

// aclStage is the ls_out_acl step of an ovn-trace: the line naming the
// matched ACL and the actions under it, up to the next stage.
func aclStage(trace string) string {
	_, rest, ok := strings.Cut(trace, "ls_out_acl (")
	if !ok {
		return ""
	}
	var b strings.Builder
	for i, line := range strings.Split(rest, "\n") {
		if i > 0 && strings.Contains(line, ". ls_") { // the next stage
			break
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

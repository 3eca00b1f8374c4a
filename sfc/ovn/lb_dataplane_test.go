package ovn_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/sfc/ovn"
	"github.com/stitchnfv/stitch/sfc/ovntest"
)

// nsL names the load-balancer data-plane test's NS; names start c0ffee000003-.
const nsL = "c0ffee00-0003-4000-8000-000000000003"

var (
	lbClient = workload{"client", "0a:00:00:00:00:0a", "10.10.0.10"}
	lbBe0    = workload{"be0", "0a:00:00:00:00:14", "10.10.0.20"}  // on access, like the client
	lbIdle   = workload{"idle", "0a:00:00:00:00:1e", "10.10.0.30"} // serves 8080 but is no backend
	lbBe1    = workload{"be1", "0a:00:00:00:01:14", "10.10.1.20"}
	lbBe2    = workload{"be2", "0a:00:00:00:01:15", "10.10.1.21"}
)

const lbVIP = "10.10.0.100:8080"

// vipNetwork is a service access point in the access subnet, VIP
// 10.10.0.100:8080, balanced over backends; be0 shares the access switch
// with the client, be1 and be2 sit on service behind router r. The load
// balancer applies on the access switch only: the client's traffic is
// balanced as it enters.
func vipNetwork(backends ...workload) ovn.Network {
	port := func(w workload) ovn.Port {
		return ovn.Port{Name: w.name, MAC: w.mac, IPs: []netip.Addr{ip(w.ip)}}
	}
	lb := ovn.LoadBalancer{Name: "sap", VIP: addrPort(lbVIP), Protocol: "tcp", Switches: []string{"access"}}
	for _, b := range backends {
		lb.Backends = append(lb.Backends, addrPort(b.ip+":8080"))
	}
	return ovn.Network{
		Switches: []ovn.Switch{
			{Name: "access", CIDR: cidr("10.10.0.0/24"), Ports: []ovn.Port{port(lbClient), port(lbBe0), port(lbIdle)}},
			{Name: "service", CIDR: cidr("10.10.1.0/24"), Ports: []ovn.Port{port(lbBe1), port(lbBe2)}},
		},
		PortGroups: []ovn.PortGroup{{Name: "be", Ports: []string{lbBe0.name, lbBe1.name, lbBe2.name},
			Allow: []ovn.Rule{{Protocol: "tcp", Port: 8080}}}},
		Routers: []ovn.Router{{Name: "r", Ports: []ovn.RouterPort{
			{Switch: "access", MAC: "0a:00:00:00:ff:01", CIDR: cidr("10.10.0.1/24")},
			{Switch: "service", MAC: "0a:00:00:00:ff:02", CIDR: cidr("10.10.1.1/24")},
		}}},
		LoadBalancers: []ovn.LoadBalancer{lb},
	}
}

func TestDataplaneLoadBalancerVIPOnClientSwitch(t *testing.T) {
	t.Parallel()
	env := ovntest.Start(t)
	ovntest.RequireChassis(t)
	start := time.Now()
	c := dial(t, env)
	render(t, c, nsL, vipNetwork(lbBe0, lbBe1))
	ch := env.AddChassis(t, "hv1", ovntest.ChassisOptions{})

	const prefix = "c0ffee000003-"
	ns := map[string]string{}
	accepted := map[string]*atomic.Int32{}
	for _, w := range []workload{lbClient, lbBe0, lbIdle, lbBe1, lbBe2} {
		ns[w.name] = ch.AttachPort(t, prefix+w.name, w.mac, w.ip+"/24")
		gw := "10.10.0.1"
		if strings.HasPrefix(w.ip, "10.10.1.") {
			gw = "10.10.1.1"
		}
		ovntest.SetGateway(t, ns[w.name], gw)
	}
	env.NBCtl(t, "--wait=hv", "--timeout=10", "sync")
	t.Logf("OVN up and converged in %v", time.Since(start))
	for _, w := range []workload{lbBe0, lbIdle, lbBe1, lbBe2} {
		accepted[w.name] = serveIdent(t, ns[w.name], w.ip+":8080", w.name)
	}

	// Connections stay open across the renders below; each is greeted by
	// the backend that accepted it.
	type open struct {
		conn    *identConn
		backend string
	}
	var conns []open
	used := map[string]int{}
	for range connections {
		ic, err := dialIdent(t, ns[lbClient.name], lbVIP)
		if err != nil {
			t.Fatalf("client → VIP %s: %v", lbVIP, err)
		}
		conns = append(conns, open{ic, ic.backend})
		used[ic.backend]++
	}
	if len(used) != 2 || used[lbBe0.name] == 0 || used[lbBe1.name] == 0 {
		t.Errorf("connections per backend %v, want both be0 (same switch) and be1 (behind the router)", used)
	}
	// The client resolved the VIP, in its own subnet, to the router port's
	// MAC: proxy ARP on the router's switch port.
	if out, err := env.Ctl(t.Context(), "ip", "-n", ns[lbClient.name], "neigh", "show", "10.10.0.100"); err != nil ||
		!strings.Contains(out, "0a:00:00:00:ff:01") {
		t.Errorf("client's neighbour entry for the VIP: %q, %v; want the router port's MAC", out, err)
	}
	checkOpen := func(when string, skip string) {
		t.Helper()
		for i, o := range conns {
			if o.backend == skip {
				continue
			}
			if err := o.conn.roundTrip(fmt.Sprintf("%s %d", when, i)); err != nil {
				t.Errorf("open connection %d (on %s) %s: %v", i, o.backend, when, err)
			}
		}
	}
	// spread opens and closes n new connections and counts their backends.
	spread := func(n int) map[string]int {
		t.Helper()
		got := map[string]int{}
		for range n {
			ic, err := dialIdent(t, ns[lbClient.name], lbVIP)
			if err != nil {
				t.Fatalf("client → VIP %s: %v", lbVIP, err)
			}
			got[ic.backend]++
			ic.Close()
		}
		return got
	}

	// Scale out: be2 joins; open connections stay on their backends, new
	// ones spread over all three.
	render(t, c, nsL, vipNetwork(lbBe0, lbBe1, lbBe2))
	env.NBCtl(t, "--wait=hv", "--timeout=10", "sync")
	checkOpen("after scale-out", "")
	if got := spread(2 * connections); got[lbBe2.name] == 0 || len(got) != 3 {
		t.Errorf("after scale-out new connections per backend %v, want all three used", got)
	}

	// Scale in: be0 goes; the connections on be1 and be2 keep working and
	// no new connection lands on be0.
	render(t, c, nsL, vipNetwork(lbBe1, lbBe2))
	env.NBCtl(t, "--wait=hv", "--timeout=10", "sync")
	checkOpen("after be0 left", lbBe0.name)
	if got := spread(connections); got[lbBe0.name] != 0 {
		t.Errorf("after be0 left new connections per backend %v, want none on be0", got)
	}
	if n := accepted[lbIdle.name].Load(); n != 0 {
		t.Errorf("the non-backend port on the access switch accepted %d connections", n)
	}
	t.Logf("traffic checked after %v (first connections per backend %v)", time.Since(start), used)

	// ovn-trace: the client's SYN to the VIP is load balanced (ct_lb_mark)
	// to a backend as it enters the access switch.
	flow := fmt.Sprintf(`inport == "%sclient" && eth.src == %s && eth.dst == 0a:00:00:00:ff:01 && `+
		`ip4.src == %s && ip4.dst == 10.10.0.100 && ip.ttl == 64 && tcp.src == 40000 && tcp.dst == 8080 && tcp.flags == 0x2`,
		prefix, lbClient.mac, lbClient.ip)
	out := ovntest.Trace(t, env, prefix+"access", flow, "--ct=new", "--ct=new")
	if !strings.Contains(out, "ct_lb_mark(backends=10.10.1.20:8080,10.10.1.21:8080)") ||
		!strings.Contains(out, `output to "`+prefix+`be1"`) && !strings.Contains(out, `output to "`+prefix+`be2"`) {
		t.Errorf("ovn-trace of client → VIP: want ct_lb_mark over be1 and be2 and delivery to one:\n%s", out)
	}

	// stitch's orchestrator applies a service access point on every switch
	// and router of the NS: that works as well.
	all := vipNetwork(lbBe0, lbBe1)
	all.LoadBalancers[0].Switches = []string{"access", "service"}
	all.LoadBalancers[0].Routers = []string{"r"}
	render(t, c, nsL, all)
	env.NBCtl(t, "--wait=hv", "--timeout=10", "sync")
	// hv sync says the chassis took the change; its datapath flows for
	// the old backend set may still serve a few connections: poll.
	var got map[string]int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got = spread(connections)
		if len(got) == 2 && got[lbBe0.name] > 0 && got[lbBe1.name] > 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(got) != 2 || got[lbBe0.name] == 0 || got[lbBe1.name] == 0 {
		t.Errorf("load balancer on all switches and the router: connections per backend %v, want be0 and be1", got)
	}
	checkOpen("with the load balancer everywhere", lbBe0.name)
}

// serveIdent listens on TCP addr in ns; it greets each connection with
// name and a newline, then echoes. It returns the count of accepted
// connections.
func serveIdent(t *testing.T, ns, addr, name string) *atomic.Int32 {
	t.Helper()
	var ln net.Listener
	if err := ovntest.InNetNS(ns, func() (err error) { ln, err = net.Listen("tcp4", addr); return err }); err != nil {
		t.Fatalf("listen on %s in %s: %v", addr, ns, err)
	}
	var n atomic.Int32
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			wg.Go(func() {
				defer conn.Close()
				if _, err := io.WriteString(conn, name+"\n"); err == nil {
					io.Copy(conn, conn)
				}
			})
		}
	})
	return &n
}

// identConn is a client connection to a serveIdent server.
type identConn struct {
	net.Conn
	r       *bufio.Reader
	backend string
}

const identTimeout = 3 * time.Second

func dialIdent(t *testing.T, ns, addr string) (*identConn, error) {
	t.Helper()
	var conn net.Conn
	if err := ovntest.InNetNS(ns, func() (err error) { conn, err = net.DialTimeout("tcp4", addr, identTimeout); return err }); err != nil {
		return nil, err
	}
	t.Cleanup(func() { conn.Close() })
	ic := &identConn{Conn: conn, r: bufio.NewReader(conn)}
	conn.SetReadDeadline(time.Now().Add(identTimeout))
	line, err := ic.r.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("greeting from %s: %w", addr, err)
	}
	ic.backend = strings.TrimSpace(line)
	return ic, nil
}

// roundTrip sends msg and expects it echoed: the connection still reaches
// the very backend socket that accepted it.
func (c *identConn) roundTrip(msg string) error {
	c.SetDeadline(time.Now().Add(identTimeout))
	if _, err := io.WriteString(c, msg+"\n"); err != nil {
		return err
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		return err
	}
	if got := strings.TrimSpace(line); got != msg {
		return fmt.Errorf("echoed %q, sent %q", got, msg)
	}
	return nil
}

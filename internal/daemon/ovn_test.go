package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptrace"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/config"
	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/internal/samplekit"
	"github.com/stitchnfv/stitch/internal/testenv"
	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/vim/local"
)

// sapURL is the complex example's service access point.
const sapURL = "http://10.10.0.100:8080"

// ovnTestConfig is testConfig on the OVN fabric with an embedded central:
// every site a chassis of its own, joined by the VIM's underlay.
func ovnTestConfig(t testing.TB) config.Config {
	t.Helper()
	cfg := testConfig(t)
	testenv.RequireCommands(t, "ovsdb-server", "ovsdb-tool", "ovn-northd", "ovs-vswitchd", "ovs-vsctl",
		"ovn-controller", "ovn-nbctl", "ovn-sbctl", "ovn-trace", "ethtool", "ip")
	cfg.Network.Fabric = config.FabricOVN
	return cfg
}

// nbctl runs ovn-nbctl against the daemon's northbound database.
func nbctl(t testing.TB, d *Daemon, args ...string) string {
	t.Helper()
	out, err := exec.Command("ovn-nbctl", append([]string{"--db=" + d.Central.NB, "--timeout=10"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ovn-nbctl %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// untilServed polls the SAP from the edge site until a request crosses the
// whole chain and returns the time since start. Several pollers with short
// timeouts overlap, so that a request stuck on a not yet answered ARP
// request does not hide the moment the service starts answering.
func untilServed(d *Daemon, start time.Time, limit time.Duration) (time.Duration, error) {
	const pollers = 4
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	served := make(chan time.Duration, pollers)
	errs := make(chan error, pollers)
	for i := range pollers {
		go func() {
			time.Sleep(time.Duration(i) * 50 * time.Millisecond)
			hc := siteHTTP(d, "edge")
			hc.Timeout = 200 * time.Millisecond
			var last error
			for ctx.Err() == nil {
				trace, err := get(hc, sapURL+"/")
				if err == nil && roles(trace) == "fw,lb,web,backend,kvdb" {
					served <- time.Since(start)
					return
				}
				last = err
				time.Sleep(10 * time.Millisecond)
			}
			errs <- last
		}()
	}
	select {
	case d := <-served:
		return d, nil
	case <-ctx.Done():
		return 0, <-errs
	}
}

// ovnState is what an operator would look at when traffic does not flow.
func ovnState(d *Daemon) string {
	var b strings.Builder
	for _, args := range [][]string{{"ovn-nbctl", "--db=" + d.Central.NB, "show"}, {"ovn-nbctl", "--db=" + d.Central.NB, "lb-list"},
		{"ovn-nbctl", "--db=" + d.Central.NB, "list", "ACL"}, {"ovn-sbctl", "--db=" + d.Central.SB, "show"}} {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		fmt.Fprintf(&b, "$ %s (%v)\n%s\n", strings.Join(args, " "), err, out)
	}
	return b.String()
}

// nsRows lists, per NB table, the rows tagged with the NS instance.
func nsRows(t testing.TB, d *Daemon, nsID string) map[string]int {
	out := map[string]int{}
	for _, table := range []string{"Logical_Switch", "Logical_Switch_Port", "Logical_Router", "Logical_Router_Port",
		"Port_Group", "ACL", "Load_Balancer"} {
		rows := nbctl(t, d, "--bare", "--columns=_uuid", "find", table, "external_ids:stitch.ns-instance="+nsID)
		if rows != "" {
			out[table] = len(strings.Fields(rows))
		}
	}
	return out
}

// client is a host on the NS's access switch that belongs to nobody: a
// network namespace bound to a logical port the test adds itself (stitch
// must leave another writer's port alone), on the edge chassis.
type client struct {
	netns string
	ip    string
	// detach unplugs the client from the site (idempotent; also run at
	// cleanup), leaving nothing a leak check would count.
	detach func()
}

func attachClient(t *testing.T, d *Daemon, cfg config.Config, nsID, ip string) client {
	t.Helper()
	sw := nbctl(t, d, "--bare", "--columns=name", "find", "Logical_Switch",
		"external_ids:stitch.ns-instance="+nsID, `external_ids:"stitch.object"="switch/access"`)
	if sw == "" {
		t.Fatal("the NS has no access switch in NB")
	}
	// Names outside the VIM's prefix: the client is not the VIM's, and its
	// leak check must not count it.
	c := client{netns: "client-" + cfg.VIM.Prefix, ip: ip}
	lsp, mac, host := "client-"+cfg.VIM.Prefix, "02:00:00:c1:1e:01", "cl-"+cfg.VIM.Prefix
	nbctl(t, d, "lsp-add", sw, lsp, "--", "lsp-set-addresses", lsp, mac+" "+ip)
	t.Cleanup(func() { exec.Command("ovn-nbctl", "--db="+d.Central.NB, "--if-exists", "lsp-del", lsp).Run() })
	ns, err := namedns.Create(c.netns)
	if err != nil {
		t.Fatal(err)
	}
	ns.Close()
	t.Cleanup(func() { namedns.Delete(c.netns) })
	site := local.SiteNamespace(cfg.VIM.Prefix, "edge")
	db := "unix:" + filepath.Join(cfg.StateDir, "vim", "ovn", "edge", "db.sock")
	c.detach = func() {
		exec.Command("ovs-vsctl", "--db="+db, "--if-exists", "del-port", "br-int", host).Run()
		exec.Command("ip", "-n", site, "link", "del", host).Run()
	}
	t.Cleanup(c.detach)
	for _, cmd := range [][]string{
		{"ip", "-n", site, "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", c.netns},
		{"ip", "-n", site, "link", "set", host, "up"},
		{"ovs-vsctl", "--db=" + db, "--timeout=10", "add-port", "br-int", host, "--", "set", "Interface", host, "external_ids:iface-id=" + lsp},
		{"ip", "-n", c.netns, "link", "set", "eth0", "address", mac, "mtu", "1400", "up"},
		{"ip", "-n", c.netns, "addr", "add", ip + "/24", "dev", "eth0"},
		{"ip", "-n", c.netns, "route", "add", "default", "via", "10.10.0.1"},
		{"ip", "netns", "exec", c.netns, "ethtool", "-K", "eth0", "tx", "off"},
	} {
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd, err, out)
		}
	}
	return c
}

func (c client) http(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (conn net.Conn, err error) {
			err = namedns.DoNamed(c.netns, func() error {
				conn, err = (&net.Dialer{}).DialContext(ctx, network, addr)
				return err
			})
			return conn, err
		},
	}}
}

// get returns the trace of hops that served a request, or an error.
func get(hc *http.Client, url string) ([]string, error) {
	resp, err := hc.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	return strings.Split(resp.Header.Get("X-Stitch-Trace"), ","), nil
}

func roles(trace []string) string {
	var out []string
	for _, h := range trace {
		role, _, _ := strings.Cut(h, ":")
		out = append(out, role)
	}
	return strings.Join(out, ",")
}

func TestComplexServiceOnOVN(t *testing.T) {
	cfg := ovnTestConfig(t)
	// The SAP as an OVN load balancer (service router off): the router
	// has TestServiceRouterBalancesOnSlots and the lab test.
	cfg.ServiceRouter.Mode = config.RouterOff
	d, c := startInProcess(t, cfg)
	ctx := context.Background()
	onboardExamples(t, c)
	ns, err := c.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "complex-service", Name: "ovn"})
	if err != nil {
		t.Fatal(err)
	}

	// Time from the instantiate call until a request crosses the chain
	// through the service access point (OVN convergence included).
	start := time.Now()
	op, err := c.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	firstTraffic, err := untilServed(d, start, 30*time.Second)
	if err != nil {
		op, _ := c.GetOp(ctx, op.ID)
		t.Fatalf("no request through %s within 30 s: %v\noperation: %s\n%s", sapURL, err, dump(op), ovnState(d))
	}
	done := mustComplete(t, c, op, nil)
	ns, _ = c.GetNS(ctx, ns.ID)
	var lastHealthy time.Time
	for _, v := range ns.Vnfcs {
		if v.HealthyAt.After(lastHealthy) {
			lastHealthy = v.HealthyAt
		}
	}
	t.Logf("instantiate → first request through the SAP: %s (operation %.0f ms; %s after the last instance was healthy)",
		firstTraffic.Round(time.Millisecond), done.Stats.DurationMs, start.Add(firstTraffic).Sub(lastHealthy).Round(time.Millisecond))

	cl := attachClient(t, d, cfg, ns.ID, "10.10.0.250")
	hc := cl.http(2 * time.Second)

	t.Run("a client's requests cross the chain in order", func(t *testing.T) {
		fws := map[string]bool{}
		for range 6 {
			trace, err := get(hc, sapURL+"/")
			if err != nil {
				t.Fatal(err)
			}
			if got := roles(trace); got != "fw,lb,web,backend,kvdb" {
				t.Fatalf("trace %v, want fw,lb,web,backend,kvdb", trace)
			}
			fws[hopsByRole(trace)["fw"]] = true
		}
		if len(fws) != 1 {
			t.Fatalf("firewalls %v: the only firewall instance should serve every request", fws)
		}
	})
	t.Run("what the firewall denies never arrives", func(t *testing.T) {
		edge := siteHTTP(d, "edge")
		stats := func(profile string) samplekit.StatsSnapshot {
			var s samplekit.StatsSnapshot
			resp, err := edge.Get("http://" + vnfcsOf(ns, profile)[0].Addresses["data"] + ":8080/stats")
			if err == nil {
				err = json.NewDecoder(resp.Body).Decode(&s)
				resp.Body.Close()
			}
			if err != nil {
				t.Fatalf("%s stats: %v", profile, err)
			}
			return s
		}
		fw, lb, web := stats("fw"), stats("lb"), stats("web")
		if _, err := get(hc, sapURL+"/admin"); err == nil {
			t.Fatal("/admin answered; the firewall should drop it")
		}
		if got := stats("fw"); got.Requests != fw.Requests+1 || got.Dropped != fw.Dropped+1 {
			t.Fatalf("firewall counted %d requests and %d drops, want one more of each than %d and %d",
				got.Requests, got.Dropped, fw.Requests, fw.Dropped)
		}
		if got := stats("lb"); got.Requests != lb.Requests {
			t.Fatalf("the load balancer saw %d requests, had %d: the denied one went on", got.Requests, lb.Requests)
		}
		if got := stats("web"); got.Requests != web.Requests {
			t.Fatalf("web saw %d requests, had %d: the denied one arrived", got.Requests, web.Requests)
		}
	})
	t.Run("microservices admit only their callers", func(t *testing.T) {
		web := vnfcsOf(ns, "web")[0].Addresses["data"]
		fw := vnfcsOf(ns, "fw")[0].Addresses["data"]
		if _, err := get(hc, "http://"+fw+":8080/"); err != nil {
			t.Fatalf("the chain's entry admits anyone, but: %v", err)
		}
		short := cl.http(time.Second)
		if _, err := get(short, "http://"+web+":8080/"); err == nil {
			t.Fatal("the client reached web directly, around the firewall and load balancer")
		}
	})
	t.Run("ovn-trace agrees", func(t *testing.T) {
		trace := func(flow string) string {
			args := []string{"--db=" + d.Central.SB, "--ct=new", "--ct=new", "--ct=new"}
			sw := nbctl(t, d, "--bare", "--columns=name", "find", "Logical_Switch",
				"external_ids:stitch.ns-instance="+ns.ID, `external_ids:"stitch.object"="switch/access"`)
			out, err := exec.Command("ovn-trace", append(args, sw, flow)...).CombinedOutput()
			if err != nil {
				t.Fatalf("ovn-trace: %v\n%s", err, out)
			}
			return string(out)
		}
		routerMAC := nbctl(t, d, "--bare", "--columns=mac", "find", "Logical_Router_Port",
			"external_ids:stitch.ns-instance="+ns.ID, `external_ids:"stitch.object"="rport/r/access"`)
		base := fmt.Sprintf(`inport == "client-%s" && eth.src == 02:00:00:c1:1e:01 && eth.dst == %s && ip4.src == %s && ip.ttl == 64 && tcp.src == 40000`,
			cfg.VIM.Prefix, routerMAC, cl.ip)
		fw := vnfcsOf(ns, "fw")[0].Addresses["data"]
		if out := trace(base + " && ip4.dst == 10.10.0.100 && tcp.dst == 8080"); !strings.Contains(out, "ct_lb_mark") || !strings.Contains(out, fw) {
			t.Fatalf("trace to the SAP shows no balancing to the firewall %s:\n%s", fw, out)
		}
		web := vnfcsOf(ns, "web")[0].Addresses["data"]
		if out := trace(base + " && ip4.dst == " + web + " && tcp.dst == 8080"); !strings.Contains(out, "drop") {
			t.Fatalf("trace to web directly is not dropped:\n%s", out)
		}
	})

	t.Run("scale-out and heal re-render the service access point", func(t *testing.T) {
		// One client connection kept open across the scale-out: OVN's
		// conntrack keeps it on its firewall while the balancer gains one.
		kept := cl.http(2 * time.Second)
		kept.Transport.(*http.Transport).DisableKeepAlives = false
		first, err := get(kept, sapURL+"/")
		if err != nil {
			t.Fatal(err)
		}
		op, err := c.Scale(ctx, ns.ID, nfvo.ScaleRequest{ScaleType: "SCALE_VNF", ScaleVnfData: nfvo.ScaleVnfData{
			VnfProfileID: "fw", ScaleVnfType: "SCALE_OUT", AspectID: "firewall-scale"}})
		mustComplete(t, c, op, err)
		ns, _ = c.GetNS(ctx, ns.ID)
		for range 5 {
			reused := false
			req, _ := http.NewRequest(http.MethodGet, sapURL+"/", nil)
			req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
				GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused },
			}))
			resp, err := kept.Do(req)
			if err != nil {
				t.Fatalf("the open connection broke when the balancer changed: %v", err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			then := strings.Split(resp.Header.Get("X-Stitch-Trace"), ",")
			if !reused || hopsByRole(then)["fw"] != hopsByRole(first)["fw"] {
				t.Fatalf("connection reused %v, firewall %s then %s: want the same connection on the same firewall",
					reused, hopsByRole(first)["fw"], hopsByRole(then)["fw"])
			}
		}
		kept.CloseIdleConnections()
		if lb := nbctl(t, d, "--bare", "--columns=vips", "find", "Load_Balancer", "external_ids:stitch.ns-instance="+ns.ID); strings.Count(lb, ":8080") != 3 {
			t.Fatalf("SAP balancer vips %q: want the VIP and both firewalls", lb)
		}
		seen := map[string]bool{}
		for i := 0; i < 40 && len(seen) < 2; i++ {
			trace, err := get(hc, sapURL+"/")
			if err != nil {
				t.Fatal(err)
			}
			seen[hopsByRole(trace)["fw"]] = true
		}
		if len(seen) != 2 {
			t.Fatalf("firewalls serving the SAP: %v, want both", seen)
		}
		victim := vnfcsOf(ns, "fw")[0]
		pids := processesWithEnv("STITCH_INSTANCE_ID", victim.ID)
		if len(pids) != 1 {
			t.Fatalf("instance %s runs as %v", victim.ID, pids)
		}
		if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		heal := waitForOp(t, c, ns.ID, nfvo.OpHeal, 15*time.Second)
		mustComplete(t, c, heal, nil)
		ns, _ = c.GetNS(ctx, ns.ID)
		var fws []string
		for _, v := range vnfcsOf(ns, "fw") {
			fws = append(fws, v.ID)
		}
		if len(fws) != 2 || slices.Contains(fws, victim.ID) {
			t.Fatalf("firewalls after heal %v, want two without %s", fws, victim.ID)
		}
		for range 10 {
			trace, err := get(hc, sapURL+"/")
			if err != nil {
				t.Fatalf("service after heal: %v", err)
			}
			if fw := hopsByRole(trace)["fw"]; !slices.Contains(fws, fw) {
				t.Fatalf("request served by %s, not one of %v", fw, fws)
			}
		}
	})

	parent := t
	t.Run("a restarted daemon adopts OVN and the service keeps answering", func(t *testing.T) {
		rows, pids := nsRows(t, d, ns.ID), d.Central.Pids()
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := get(hc, sapURL+"/"); err != nil {
			t.Fatalf("the data plane stopped with the daemon: %v", err)
		}
		// While it is down: one of its ACLs is deleted by hand, and rows of
		// an NS instance it has no record of appear (a crashed terminate).
		acl := nbctl(t, d, "--bare", "--columns=_uuid", "find", "ACL", "external_ids:stitch.ns-instance="+ns.ID, "priority=2000")
		pg := nbctl(t, d, "--bare", "--columns=_uuid", "find", "Port_Group", "external_ids:stitch.ns-instance="+ns.ID, "acls{>=}"+strings.Fields(acl)[0])
		nbctl(t, d, "remove", "Port_Group", pg, "acls", strings.Fields(acl)[0])
		if n := nsRows(t, d, ns.ID)["ACL"]; n != rows["ACL"]-1 {
			t.Fatalf("%d ACLs after deleting one of %d", n, rows["ACL"])
		}
		stale := "0badc0ffee00-access"
		nbctl(t, d, "ls-add", stale, "--", "set", "Logical_Switch", stale,
			"external_ids:stitch.owner=stitch", "external_ids:stitch.ns-instance=0badc0ff-ee00-0000-0000-000000000000")
		d, c = startInProcess(parent, cfg) // lives as long as the whole test
		if got := d.Central.Pids(); !maps.Equal(got, pids) {
			t.Fatalf("central processes %v after restart, want the same %v adopted", got, pids)
		}
		if got := nsRows(t, d, ns.ID); !maps.Equal(got, rows) {
			t.Fatalf("NB rows %v after restart, want %v (the deleted ACL put back)", got, rows)
		}
		if got := nbctl(t, d, "--bare", "--columns=name", "find", "Logical_Switch", "name="+stale); got != "" {
			t.Fatal("the start-up sweep left rows of an NS instance with no record")
		}
		if trace, err := get(hc, sapURL+"/"); err != nil || roles(trace) != "fw,lb,web,backend,kvdb" {
			t.Fatalf("after restart: %v, %v", trace, err)
		}
	})

	other := cfg.VIM.Prefix + "-not-stitch"
	nbctl(t, d, "ls-add", other)
	t.Run("terminate leaves NB, SB and the hosts clean", func(t *testing.T) {
		op, err := c.Terminate(ctx, ns.ID, nfvo.TerminateRequest{GracefulTerminationTimeout: 2})
		mustComplete(t, c, op, err)
		if rows := nsRows(t, d, ns.ID); len(rows) != 0 {
			t.Fatalf("NB rows of the NS left: %v", rows)
		}
		if ls := nbctl(t, d, "--bare", "--columns=name", "find", "Logical_Switch", "name="+other); ls == "" {
			t.Fatal("terminate deleted a switch another writer owns")
		}
		prefix := ns.ID[:8]
		out, err := exec.Command("ovn-sbctl", "--db="+d.Central.SB, "--bare", "--columns=logical_port", "list", "Port_Binding").CombinedOutput()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), prefix) {
			t.Fatalf("SB port bindings of the NS left:\n%s", out)
		}
		if pids := processesWithEnv("STITCH_NS_INSTANCE", ns.ID); len(pids) != 0 {
			t.Fatalf("processes of the NS still run: %v", pids)
		}
		cl.detach()
		leaks, err := d.VIM.Leaks(ctx)
		if err != nil || len(leaks) != 0 {
			t.Fatalf("leaks after terminate: %v, %v", leaks, err)
		}
	})
}

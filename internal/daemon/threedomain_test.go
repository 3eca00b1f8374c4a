package daemon

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/config"
	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/lab"
	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/nfvo/api"
)

// interDomainPort is where every domain's libp2p host listens, on all of
// its node's addresses.
const interDomainPort = 7000

// labDomain is one domain of the three-domain lab: a stitchd process
// running inside the lab node of the same name.
type labDomain struct {
	name    string
	netns   string // the lab node's namespace
	peerID  string
	keyFile string
	cfg     config.Config
	logPath string
	c       *api.Client   // dials inside netns
	exited  chan struct{} // closed once the process is reaped
}

// TestThreeDomainLab is issue 5's lab proof: lab/three-domain.clab.yml's
// triangle runs three daemons, one per node, that peer over the lab's
// links; d1 instantiates the microservices NS and d2 and d3 learn its
// service route directly from d1, then lose it when d1 terminates.
func TestThreeDomainLab(t *testing.T) {
	ctx := context.Background()
	var doms []*labDomain
	for _, name := range []string{"d1", "d2", "d3"} {
		// testConfig first: its purge of the VIM's state then runs last,
		// after the daemons have stopped and the lab is gone.
		d := &labDomain{name: name, cfg: testConfig(t)}
		d.keyFile, d.peerID = domainKey(t)
		doms = append(doms, d)
	}
	topo, l := deployLab(t, "three-domain.clab.yml", "td-"+doms[0].cfg.VIM.Prefix)
	logDir := t.TempDir()
	t.Cleanup(func() {
		if t.Failed() {
			for _, d := range doms {
				logTail(t, d)
			}
		}
	})
	for _, d := range doms {
		node, ok := l.Node(d.name)
		if !ok {
			t.Fatalf("lab has no node %s: %+v", d.name, l.Nodes)
		}
		d.netns = node.NetNS
		d.logPath = filepath.Join(logDir, d.name+".log")
		d.configure(t, topo, l, doms)
		d.start(t)
	}

	waitEstablished(t, doms, 30*time.Second)

	d1, others := doms[0], doms[1:]
	onboardExamples(t, d1.c)
	ns, err := d1.c.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "microservices", Name: "threedomain"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := d1.c.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
	mustComplete(t, d1.c, op, err)

	const svc = "microservices/web-entry"
	routeOf := func(rs []nfvo.DomainRoute) (nfvo.DomainRoute, bool) {
		i := slices.IndexFunc(rs, func(r nfvo.DomainRoute) bool { return r.Service == svc })
		if i < 0 {
			return nfvo.DomainRoute{}, false
		}
		return rs[i], true
	}
	// In the triangle d2 also hears the route through d3 (path [d3 d1]);
	// the direct path must win, so wait for exactly that one.
	seen := waitEach(t, others, 20*time.Second, "learn "+svc+" from d1 directly", func(rs []nfvo.DomainRoute) bool {
		r, ok := routeOf(rs)
		return ok && r.Origin == "d1" && slices.Equal(r.Path, []string{"d1"}) && r.Slots > 0
	})
	for _, d := range others {
		t.Logf("%s learnt %s %s after the instantiation completed", d.name, svc, seen[d.name].Round(time.Millisecond))
		rs, err := d.c.InterDomainRoutes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := routeOf(rs)
		if r.Peer != "d1" || r.Address != "10.20.1.100" || r.Port != 8080 || r.Protocol != "tcp" ||
			r.Ingress != "10.20.1.100" || r.Reason == "" {
			t.Errorf("%s's route = %+v, want d1's SAP 10.20.1.100:8080/tcp learnt from d1", d.name, r)
		}
	}
	if rs, err := d1.c.InterDomainRoutes(ctx); err != nil || len(rs) != 1 || rs[0].Service != svc || rs[0].Peer != "" {
		t.Errorf("d1's routes = %+v, %v; want only its own %s", rs, err, svc)
	}

	op, err = d1.c.Terminate(ctx, ns.ID, nfvo.TerminateRequest{GracefulTerminationTimeout: 1})
	mustComplete(t, d1.c, op, err)
	gone := waitEach(t, doms, 20*time.Second, "forget "+svc, func(rs []nfvo.DomainRoute) bool {
		_, ok := routeOf(rs)
		return !ok
	})
	for _, d := range doms {
		t.Logf("%s forgot %s %s after the termination completed", d.name, svc, gone[d.name].Round(time.Millisecond))
	}
}

// deployLab deploys lab/<file> under a name of its own with network
// namespaces (as on CI, even where containerlab runs) and destroys it when
// the test ends.
func deployLab(t *testing.T, file, name string) (*lab.Topology, *lab.Lab) {
	t.Helper()
	topo, err := lab.ParseFile(filepath.Join("..", "..", "lab", file), nil)
	if err != nil {
		t.Fatal(err)
	}
	topo.Name = name
	runner := lab.NewRunner(t.TempDir(), nil)
	l, err := runner.Deploy(context.Background(), topo, lab.DeployOptions{NoContainerlab: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Also ends whatever still runs in the nodes' namespaces.
		if err := runner.Destroy(context.Background(), topo.Name); err != nil {
			t.Error(err)
		}
	})
	return topo, l
}

// linkAddr is the address node to has on its link to node from: where
// from reaches it.
func linkAddr(t *testing.T, topo *lab.Topology, l *lab.Lab, from, to string) netip.Addr {
	t.Helper()
	for _, ln := range topo.Links {
		ep := ln.B
		switch {
		case ln.A.Node == from && ln.B.Node == to:
		case ln.A.Node == to && ln.B.Node == from:
			ep = ln.A
		default:
			continue
		}
		node, _ := l.Node(to)
		for _, ifc := range node.Interfaces {
			if ifc.Name == ep.Interface && len(ifc.Addrs) > 0 {
				return ifc.Addrs[0].Addr()
			}
		}
		t.Fatalf("%s has no address on %s: %+v", to, ep, node.Interfaces)
	}
	t.Fatalf("no link between %s and %s", from, to)
	return netip.Addr{}
}

// configure completes d's configuration: one site, the API on the node's
// own loopback, and the other two domains as peers at their addresses on
// the links to d.
func (d *labDomain) configure(t *testing.T, topo *lab.Topology, l *lab.Lab, doms []*labDomain) {
	t.Helper()
	d.cfg.Listen = "127.0.0.1:8181"
	// Every domain's single site is called core: the microservices NSD
	// places its VNFs on a site of that name.
	d.cfg.VIM.Sites = []config.Site{{Name: "core"}}
	id := &config.InterDomain{
		Domain:   d.name,
		KeyFile:  d.keyFile,
		Listen:   fmt.Sprintf("/ip4/0.0.0.0/tcp/%d", interDomainPort),
		HoldTime: config.Duration(6 * time.Second),
		MRAI:     config.Duration(100 * time.Millisecond),
	}
	for _, p := range doms {
		if p == d {
			continue
		}
		id.Peers = append(id.Peers, config.DomainPeer{
			Domain: p.name, PeerID: p.peerID,
			Addrs: []string{fmt.Sprintf("/ip4/%s/tcp/%d", linkAddr(t, topo, l, d.name, p.name), interDomainPort)},
		})
	}
	d.cfg.InterDomain = id
	if err := d.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	d.c = &api.Client{BaseURL: "http://" + d.cfg.Listen, HTTP: netnsHTTP(d.netns)}
}

// start runs stitchd inside d's node namespace, output to d.logPath, and
// stops it (SIGTERM, then SIGKILL) when the test ends. The forked process
// inherits the namespace of the locked thread that starts it; unlike
// `ip netns exec` this keeps the host's mount namespace, so the sites the
// VIM creates under /run/netns and its cgroups are the host's.
func (d *labDomain) start(t *testing.T) {
	t.Helper()
	cfgPath := filepath.Join(d.cfg.StateDir, "stitchd.yaml")
	if err := writeConfig(cfgPath, d.cfg); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(d.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close() // the child has its own copy
	cmd := exec.Command(filepath.Join(binDir, "stitchd"), "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = out, out
	if err := namedns.DoNamed(d.netns, cmd.Start); err != nil {
		t.Fatal(err)
	}
	d.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(15 * time.Second):
			t.Errorf("%s: stitchd did not stop on SIGTERM", d.name)
			_ = cmd.Process.Kill()
			<-d.exited
		}
	})
}

// netnsHTTP is an HTTP client whose connections start inside namespace ns.
func netnsHTTP(ns string) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				var conn net.Conn
				err := namedns.DoNamed(ns, func() (err error) {
					conn, err = (&net.Dialer{}).DialContext(ctx, network, addr)
					return err
				})
				return conn, err
			},
		},
	}
}

// checkRunning fails the test at once if a daemon has exited: waiting any
// longer for it would only hide why.
func checkRunning(t *testing.T, doms []*labDomain) {
	t.Helper()
	for _, d := range doms {
		select {
		case <-d.exited:
			t.Fatalf("%s: stitchd exited", d.name)
		default:
		}
	}
}

// waitEstablished waits until every domain's sessions to the other two
// are established.
func waitEstablished(t *testing.T, doms []*labDomain, timeout time.Duration) {
	t.Helper()
	start := time.Now()
	waitEachDomain(t, doms, timeout, "sessions established", func(d *labDomain) (bool, string) {
		peers, err := d.c.InterDomainPeers(context.Background())
		if err != nil {
			return false, err.Error()
		}
		up := 0
		for _, p := range peers {
			if p.State == "Established" && p.Connected {
				up++
			}
		}
		return len(peers) == len(doms)-1 && up == len(peers), fmt.Sprintf("%+v", peers)
	})
	t.Logf("all %d sessions established %s after the daemons started", len(doms)*(len(doms)-1)/2, time.Since(start).Round(time.Millisecond))
}

// waitEach polls each domain's inter-domain routes until ok holds for it
// and returns how long each took.
func waitEach(t *testing.T, doms []*labDomain, timeout time.Duration, what string, ok func([]nfvo.DomainRoute) bool) map[string]time.Duration {
	t.Helper()
	return waitEachDomain(t, doms, timeout, what, func(d *labDomain) (bool, string) {
		routes, err := d.c.InterDomainRoutes(context.Background())
		if err != nil {
			return false, err.Error()
		}
		return ok(routes), fmt.Sprintf("routes %+v", routes)
	})
}

// waitEachDomain polls cond for every domain, all in the same rounds so
// that each one's time is its own, until it holds for all of them. It
// returns the time each took; on timeout it fails with what each last
// reported.
func waitEachDomain(t *testing.T, doms []*labDomain, timeout time.Duration, what string, cond func(*labDomain) (bool, string)) map[string]time.Duration {
	t.Helper()
	start := time.Now()
	took := map[string]time.Duration{}
	last := map[string]string{}
	for {
		checkRunning(t, doms)
		for _, d := range doms {
			if _, done := took[d.name]; done {
				continue
			}
			if ok, state := cond(d); ok {
				took[d.name] = time.Since(start)
			} else {
				last[d.name] = state
			}
		}
		if len(took) == len(doms) {
			return took
		}
		if time.Since(start) > timeout {
			var b strings.Builder
			for _, d := range doms {
				if _, done := took[d.name]; !done {
					fmt.Fprintf(&b, "\n%s: %s", d.name, last[d.name])
				}
			}
			t.Fatalf("%s: not after %s:%s", what, timeout, b.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logTail logs the end of a daemon's output, without the API's request
// lines: the test's polling would crowd out everything else.
func logTail(t *testing.T, d *labDomain) {
	const lines = 40
	b, err := os.ReadFile(d.logPath)
	if err != nil {
		t.Logf("%s: %v", d.name, err)
		return
	}
	var kept []string
	for line := range strings.Lines(string(b)) {
		if !strings.Contains(line, `msg="http request"`) {
			kept = append(kept, strings.TrimRight(line, "\n"))
		}
	}
	kept = kept[max(0, len(kept)-lines):]
	t.Logf("%s: last %d lines of stitchd's output (API requests left out):\n%s", d.name, len(kept), strings.Join(kept, "\n"))
}

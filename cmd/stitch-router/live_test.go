package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/internal/namedns/nstest"
	"github.com/stitchnfv/stitch/internal/testenv"
	"github.com/stitchnfv/stitch/servicerouter/control"
)

// topology is the router's namespace and a peer namespace joined by a
// veth pair: r0 (10.77.0.1, the router's) — c0 (10.77.0.2, stitchd's
// side and the clients').
type topology struct {
	router, peer     string
	routerNL, peerNL *netlink.Handle
}

const (
	routerAddr = "10.77.0.1"
	peerAddr   = "10.77.0.2"
)

func newTopology(t *testing.T) topology {
	t.Helper()
	rname, _, rnl := nstest.NetNS(t, "srt-r")
	pname, ph, pnl := nstest.NetNS(t, "srt-p")
	must(t, rnl.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "r0"}, PeerName: "c0", PeerNamespace: netlink.NsFd(ph)}))
	addAddr(t, rnl, "r0", routerAddr+"/24")
	addAddr(t, pnl, "c0", peerAddr+"/24")
	return topology{rname, pname, rnl, pnl}
}

func addAddr(t *testing.T, h *netlink.Handle, dev, cidr string) {
	t.Helper()
	l, err := h.LinkByName(dev)
	must(t, err)
	a, err := netlink.ParseAddr(cidr)
	must(t, err)
	must(t, h.AddrAdd(l, a))
	must(t, h.LinkSetUp(l))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// buildRouter builds this command into a temporary directory.
func buildRouter(t *testing.T) string {
	t.Helper()
	testenv.RequireCommands(t, "go")
	bin := filepath.Join(t.TempDir(), "stitch-router")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is stitch-router running in a namespace.
type process struct {
	cmd    *exec.Cmd
	log    string
	exited chan error
}

// start runs the router in namespace ns; it is killed at cleanup if the
// test did not stop it, and its log is shown when the test fails.
func start(t *testing.T, bin, ns string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), log: filepath.Join(t.TempDir(), "router.log"), exited: make(chan error, 1)}
	logf, err := os.Create(p.log)
	must(t, err)
	defer logf.Close()
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	// The child inherits the namespace of the thread that starts it.
	must(t, namedns.DoNamed(ns, p.cmd.Start))
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("stitch-router log:\n%s", b)
		}
	})
	return p
}

// stop sends SIGTERM and returns the exit error.
func (p *process) stop(t *testing.T) error {
	t.Helper()
	must(t, p.cmd.Process.Signal(syscall.SIGTERM))
	return <-p.exited
}

// peerClient calls the router's API from the peer namespace, as stitchd
// does through its VIM.
func peerClient(ns string) *control.Client {
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := namedns.DoNamed(ns, func() (err error) {
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}}}
	return control.NewClient(fmt.Sprintf("http://%s:%d", routerAddr, control.DefaultPort), hc)
}

// waitHealthy polls /healthz until the router answers or exits.
func waitHealthy(t *testing.T, ctx context.Context, c *control.Client, p *process) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := c.Healthy(ctx)
		if err == nil {
			return
		}
		select {
		case exit := <-p.exited:
			p.exited <- exit
			t.Fatalf("stitch-router exited (%v) before it was healthy: %v", exit, err)
		case <-ctx.Done():
			t.Fatalf("stitch-router not healthy: %v", err)
		case <-tick.C:
		}
	}
}

// TestRouterInNamespace starts the binary in a namespace as the VIM does,
// in each mode, programs it through its API from the peer namespace,
// checks the XDP program is attached to the interface holding --address in
// that mode (none in userspace mode) and that a datagram to the VIP leaves IPIP-encapsulated
// towards the instance, and that SIGTERM detaches it and exits 0.
func TestRouterInNamespace(t *testing.T) {
	testenv.RequireRoot(t)
	bin := buildRouter(t)
	for _, tt := range []struct {
		mode string
		want uint32 // IFLA_XDP_ATTACHED
	}{
		{modeNative, nl.XDP_ATTACHED_DRV},
		{modeGeneric, nl.XDP_ATTACHED_SKB},
		{modeUserspace, nl.XDP_ATTACHED_NONE},
	} {
		t.Run(tt.mode, func(t *testing.T) {
			top := newTopology(t)
			if tt.mode == modeNative {
				// A native XDP_TX on a veth lands on the peer's XDP
				// receive queue, which exists only while the peer runs
				// an XDP program: without one the frame is dropped.
				passOn(t, top.peer, "c0")
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			p := start(t, bin, top.router, "--address", routerAddr, "--mode", tt.mode, "--conn-table", "4096", "--log-level", "debug")
			c := peerClient(top.peer)
			waitHealthy(t, ctx, c, p)

			r0, err := top.routerNL.LinkByName("r0")
			must(t, err)
			if x := r0.Attrs().Xdp; attachMode(x) != tt.want {
				t.Fatalf("r0: XDP %+v, want attach mode %d", x, tt.want)
			}

			// The instance is the peer namespace itself, at a second address.
			c0, err := top.peerNL.LinkByName("c0")
			must(t, err)
			svc := control.Service{Name: "dns", VIP: "10.77.1.53", Port: 53, Protocol: control.UDP,
				Instances: []control.Instance{{ID: "i1", Address: "10.77.0.3", MAC: c0.Attrs().HardwareAddr.String()}}}
			must(t, c.PutServices(ctx, []control.Service{svc}))
			views, err := c.Services(ctx)
			must(t, err)
			if len(views) != 1 || views[0].Name != "dns" || views[0].VIP != svc.VIP || len(views[0].Instances) != 1 || views[0].Instances[0].ID != "i1" {
				t.Fatalf("GET /v1/services: %+v", views)
			}

			encapsulated(t, ctx, top, c, svc)

			if err := p.stop(t); err != nil {
				t.Fatalf("exit after SIGTERM: %v", err)
			}
			r0, err = top.routerNL.LinkByName("r0")
			must(t, err)
			if x := r0.Attrs().Xdp; attachMode(x) != nl.XDP_ATTACHED_NONE {
				t.Fatalf("r0: XDP %+v still attached after the router stopped", x)
			}
		})
	}
}

func attachMode(x *netlink.LinkXdp) uint32 {
	if x == nil || !x.Attached {
		return nl.XDP_ATTACHED_NONE
	}
	return x.AttachMode
}

// passOn attaches an XDP program that passes every frame to dev in
// namespace ns, in driver mode.
func passOn(t *testing.T, ns, dev string) {
	t.Helper()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2 /* XDP_PASS */), asm.Return()}})
	must(t, err)
	t.Cleanup(func() { prog.Close() })
	must(t, namedns.DoNamed(ns, func() error {
		ifc, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifc.Index, Flags: link.XDPDriverMode})
		if err != nil {
			return err
		}
		t.Cleanup(func() { l.Close() })
		return nil
	}))
}

// encapsulated sends datagrams to the VIP from the peer namespace until
// one comes back IPIP-encapsulated from the router to the instance's
// address, while reporting the instance's free slots as stitchd would.
func encapsulated(t *testing.T, ctx context.Context, top topology, c *control.Client, svc control.Service) {
	t.Helper()
	addAddr(t, top.peerNL, "c0", svc.Instances[0].Address+"/32")
	_, vip, err := net.ParseCIDR(svc.VIP + "/32")
	must(t, err)
	must(t, top.peerNL.RouteAdd(&netlink.Route{Dst: vip, Gw: net.ParseIP(routerAddr)}))
	var tunnel, client net.PacketConn
	must(t, namedns.DoNamed(top.peer, func() (err error) {
		if tunnel, err = net.ListenPacket("ip4:4", svc.Instances[0].Address); err != nil {
			return err
		}
		client, err = net.ListenPacket("udp4", peerAddr+":0")
		return err
	}))
	defer tunnel.Close()
	defer client.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go reportSlots(ctx, c, svc)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		dst := &net.UDPAddr{IP: vip.IP, Port: int(svc.Port)}
		for {
			_, _ = client.WriteTo([]byte("query"), dst)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	deadline, _ := ctx.Deadline()
	must(t, tunnel.SetReadDeadline(deadline))
	buf := make([]byte, 2048)
	for {
		n, from, err := tunnel.ReadFrom(buf)
		if err != nil {
			views, verr := c.Services(context.Background())
			t.Fatalf("no encapsulated datagram: %v; the router's view: %+v %v", err, views, verr)
		}
		inner := buf[:n]
		if from.String() != routerAddr || n < 28 || net.IP(inner[16:20]).String() != svc.VIP ||
			inner[9] != 17 || binary.BigEndian.Uint16(inner[22:]) != svc.Port {
			continue // not (yet) ours
		}
		return
	}
}

// reportSlots posts the instance's free slots every 100 ms, as stitchd
// does: reports older than a second count for nothing.
func reportSlots(ctx context.Context, c *control.Client, svc control.Service) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := c.PostReports(ctx, []control.Report{{Service: svc.Name, Instance: svc.Instances[0].ID, Max: 10, Available: 10, MeasuredAt: time.Now()}})
		if err != nil && !errors.Is(err, context.Canceled) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

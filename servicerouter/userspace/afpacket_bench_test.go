package userspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/internal/namedns/nstest"
	"github.com/stitchnfv/stitch/xdp"
)

// The full userspace path, timed: frames go into a veth, Serve reads them
// from its AF_PACKET socket, runs Process and writes the TX frame back out
// of the same interface, where the sender counts it.
//
//	namespace usab-c                       namespace usab-r
//	  sender: sendmmsg ──► c0 ══ veth ══ r0 ──► Serve (AF_PACKET read,
//	  counter: recvmmsg ◄── c0 ══ veth ══ r0 ◄──  Process, write)

const (
	apFrames = 200_000 // frames per measurement
	apBatch  = 32      // frames per sendmmsg / recvmmsg
	// apWindow bounds the frames in flight (sent, not yet back): well below
	// what Serve's socket buffer holds (rmem_default 212,992 bytes, ~800
	// bytes of truesize per 64-byte frame), so none is dropped for want of
	// room and every frame sent is a frame processed.
	apWindow = 128
)

// mmsghdr is struct mmsghdr (Go pads it to the C layout on 32 and 64 bits).
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
}

// apPeer is the sender's end: a socket that sends on c0 (bound with
// protocol 0, it receives nothing) and one that receives the IPv4 frames
// arriving on c0, i.e. what Serve transmits.
type apPeer struct {
	tx, rx int
	tid    int // the thread the flood runs on (locked)

	rbufs [apBatch][256]byte
	riov  [apBatch]unix.Iovec
	rmsgs [apBatch]mmsghdr
	smsgs [apBatch]mmsghdr
	siov  unix.Iovec
}

func sendmmsg(fd int, m []mmsghdr) (int, error) {
	n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(fd), uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func recvmmsg(fd int, m []mmsghdr, flags int) (int, error) {
	n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(flags), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func newAPPeer(ifindex int) (*apPeer, error) {
	p := &apPeer{tx: -1, rx: -1}
	var err error
	if p.tx, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0); err != nil {
		return nil, err
	}
	if p.rx, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0); err != nil {
		p.close()
		return nil, err
	}
	err = errors.Join(
		unix.Bind(p.tx, &unix.SockaddrLinklayer{Protocol: 0, Ifindex: ifindex}),
		unix.SetsockoptInt(p.rx, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20),
		unix.Bind(p.rx, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: ifindex}))
	if err != nil {
		p.close()
		return nil, err
	}
	for i := range p.rmsgs {
		p.riov[i] = unix.Iovec{Base: &p.rbufs[i][0]}
		p.riov[i].SetLen(len(p.rbufs[i]))
		p.rmsgs[i].hdr.Iov = &p.riov[i]
		p.rmsgs[i].hdr.SetIovlen(1)
	}
	return p, nil
}

func (p *apPeer) close() {
	for _, fd := range []int{p.tx, p.rx} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// drain discards whatever the receiving socket holds.
func (p *apPeer) drain() {
	for {
		if n, err := recvmmsg(p.rx, p.rmsgs[:], unix.MSG_DONTWAIT); err != nil || n == 0 {
			return
		}
	}
}

// floodResult is one flood.
type floodResult struct {
	wall       time.Duration
	sent, back int           // back: frames back equal to want
	lost, bad  int           // not back within a second; back but not want
	senderCPU  time.Duration // of the sender's thread
	serveCPU   time.Duration // of Serve's thread, or of the serving process
	ownCPU     time.Duration // of this whole process (locked Serve only)
}

// flood sends n copies of frame. With want == nil it only sends, as fast
// as sendmmsg goes (the sender alone). Otherwise it keeps at most apWindow
// frames in flight and counts the frames coming back, which must equal
// want from byte 12 on (the MACs depend on the interfaces); a frame not
// back within a second is counted lost.
func (p *apPeer) flood(frame, want []byte, n int) (floodResult, error) {
	var r floodResult
	p.siov = unix.Iovec{Base: &frame[0]}
	p.siov.SetLen(len(frame))
	for i := range p.smsgs {
		p.smsgs[i].hdr.Iov = &p.siov
		p.smsgs[i].hdr.SetIovlen(1)
	}
	p.drain()
	cpu0 := threadCPU(p.tid)
	start := time.Now()
	for r.back+r.lost < n {
		if k := min(apBatch, n-r.sent); k > 0 && (want == nil || r.sent-r.back-r.lost+k <= apWindow) {
			m, err := sendmmsg(p.tx, p.smsgs[:k])
			if err != nil && err != unix.EINTR {
				return r, fmt.Errorf("sendmmsg: %w", err)
			}
			r.sent += m
			if want == nil {
				r.back += m // nothing to wait for
				continue
			}
		} else {
			// The window is full (or all is sent): wait for frames back.
			fds := []unix.PollFd{{Fd: int32(p.rx), Events: unix.POLLIN}}
			k, err := unix.Poll(fds, 1000)
			if err != nil && err != unix.EINTR {
				return r, fmt.Errorf("poll: %w", err)
			}
			if k == 0 {
				r.lost += r.sent - r.back - r.lost
				continue
			}
		}
		m, err := recvmmsg(p.rx, p.rmsgs[:], unix.MSG_DONTWAIT)
		if err != nil && err != unix.EAGAIN && err != unix.EINTR {
			return r, fmt.Errorf("recvmmsg: %w", err)
		}
		for i := 0; i < m; i++ {
			got := p.rbufs[i][:min(int(p.rmsgs[i].n), len(p.rbufs[i]))]
			if int(p.rmsgs[i].n) != len(want) || string(got[12:]) != string(want[12:]) {
				r.bad++
				continue
			}
			r.back++
		}
	}
	r.wall = time.Since(start)
	r.senderCPU = threadCPU(p.tid) - cpu0
	return r, nil
}

// threadCPU is the CPU time (user and system) thread tid of this process
// has used, from /proc/self/task/<tid>/schedstat (ns); -1 if unreadable.
func threadCPU(tid int) time.Duration {
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/schedstat")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return -1
	}
	return time.Duration(v)
}

// processCPU is the CPU time of the whole process, all threads.
func processCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// apBench is the veth pair, the data plane Serve runs and the sender.
type apBench struct {
	tb               testing.TB
	rNS, cNS         string
	r0               int
	d                *Dataplane
	syn, ack         []byte
	wantSyn, wantAck []byte
	jobs             chan func(*apPeer)
}

func newAPBench(tb testing.TB) *apBench {
	tb.Helper()
	a := &apBench{tb: tb, jobs: make(chan func(*apPeer))}
	rName, _, rnl := nstest.NetNS(tb, "usab-r")
	cName, _, cnl := nstest.NetNS(tb, "usab-c")
	a.rNS, a.cNS = rName, cName
	h, err := namedns.Open(cName)
	apMust(tb, err)
	defer h.Close()
	apMust(tb, rnl.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "r0"}, PeerName: "c0", PeerNamespace: netlink.NsFd(h)}))
	up := func(nl *netlink.Handle, dev string) netlink.Link {
		l, err := nl.LinkByName(dev)
		apMust(tb, err)
		apMust(tb, nl.LinkSetUp(l))
		return l
	}
	r0 := up(rnl, "r0").Attrs()
	c0 := up(cnl, "c0").Attrs()
	a.r0 = r0.Index

	// The data plane of the in-process benchmarks; the outputs it gives on
	// ifindex 1 are the frames Serve must send back (MACs aside).
	var u *Dataplane
	u, a.syn, a.ack = newBenchDataplane(tb)
	_, out := u.Process(a.syn, 1)
	a.wantSyn = append([]byte(nil), out...)
	_, out = u.Process(a.ack, 1)
	a.wantAck = append([]byte(nil), out...)
	a.d, _, _ = newBenchDataplane(tb)
	apMust(tb, a.d.SetInterfaceMAC(context.Background(), r0.Index, r0.HardwareAddr))

	// The sender lives on one thread, locked in namespace usab-c, and runs
	// the jobs it is given.
	ready := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		done <- namedns.DoNamed(cName, func() error {
			p, err := newAPPeer(c0.Index)
			if err != nil {
				ready <- err
				return err
			}
			defer p.close()
			p.tid = unix.Gettid()
			ready <- nil
			for job := range a.jobs {
				job(p)
			}
			return nil
		})
	}()
	apMust(tb, <-ready)
	tb.Cleanup(func() {
		close(a.jobs)
		if err := <-done; err != nil {
			tb.Error(err)
		}
	})
	return a
}

// onSender runs fn on the sender's thread.
func (a *apBench) onSender(fn func(*apPeer)) {
	ok := make(chan struct{})
	a.jobs <- func(p *apPeer) { defer close(ok); fn(p) }
	<-ok
}

// flood floods frame from the sender, returning what it measured.
func (a *apBench) flood(frame, want []byte, n int) floodResult {
	var r floodResult
	var err error
	a.onSender(func(p *apPeer) { r, err = p.flood(frame, want, n) })
	apMust(a.tb, err)
	return r
}

// serve starts Serve on r0, on a thread of its own locked in usab-r, waits
// until a frame makes the round trip, and returns the thread id and a
// function that stops it.
func (a *apBench) serve() (tid int, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	tids := make(chan int, 1)
	served := make(chan error, 1)
	go func() {
		served <- namedns.DoNamed(a.rNS, func() error {
			tids <- unix.Gettid()
			return a.d.Serve(ctx, a.r0)
		})
	}()
	tid = <-tids
	stop = func() {
		cancel()
		if err := <-served; err != nil {
			a.tb.Fatalf("Serve: %v", err)
		}
	}
	// Serve opens its socket after the tid is sent: wait for one echo.
	a.waitEcho(func() error {
		select {
		case err := <-served:
			return fmt.Errorf("Serve returned early: %v", err)
		default:
			return nil
		}
	}, stop)
	return tid, stop
}

// serveEnv names, for TestServeHelper, the interface to serve.
const serveEnv = "STITCH_USERSPACE_BENCH_SERVE"

// TestServeHelper is not a test: BenchmarkAFPacket starts the test binary
// inside namespace usab-r with serveEnv set, to run Serve as the router
// does (a plain goroutine of a process in the namespace, not a locked
// thread of the benchmark's). It serves the benchmark's data plane until
// its standard input closes.
func TestServeHelper(t *testing.T) {
	dev := os.Getenv(serveEnv) // set: TestMain runs this only as the child
	l, err := netlink.LinkByName(dev)
	apMust(t, err)
	d, _, _ := newBenchDataplane(t)
	apMust(t, d.SetInterfaceMAC(context.Background(), l.Attrs().Index, l.Attrs().HardwareAddr))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	apMust(t, d.Serve(ctx, l.Attrs().Index))
}

// serveProcess starts TestServeHelper in usab-r, waits until a frame makes
// the round trip, and returns its pid and a function that stops it.
func (a *apBench) serveProcess() (pid int, stop func()) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), serveEnv+"=r0", "GOMAXPROCS="+strconv.Itoa(runtime.GOMAXPROCS(0)))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	in, err := cmd.StdinPipe()
	apMust(a.tb, err)
	apMust(a.tb, namedns.DoNamed(a.rNS, cmd.Start))
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	a.tb.Cleanup(func() { _ = cmd.Process.Kill() }) // if the benchmark fails first
	stop = func() {
		in.Close()
		select {
		case err := <-exited:
			if err != nil {
				a.tb.Fatalf("serving process: %v\n%s", err, out.Bytes())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			a.tb.Fatal("serving process did not stop")
		}
	}
	a.waitEcho(func() error {
		select {
		case err := <-exited:
			return fmt.Errorf("serving process exited: %v\n%s", err, out.Bytes())
		default:
			return nil
		}
	}, stop)
	return cmd.Process.Pid, stop
}

// waitEcho sends a frame until one comes back (Serve has its socket).
func (a *apBench) waitEcho(failed func() error, stop func()) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if r := a.flood(a.ack, a.wantAck, 1); r.back == 1 {
			return
		}
		if err := failed(); err != nil {
			a.tb.Fatal(err)
		}
		if time.Now().After(deadline) {
			stop()
			a.tb.Fatal("no frame came back from Serve in 10s")
		}
	}
}

// pidCPU is the CPU time all threads of process pid have used.
func pidCPU(pid int) time.Duration {
	dir := "/proc/" + strconv.Itoa(pid) + "/task/"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return -1
	}
	var sum time.Duration
	for _, e := range ents {
		b, err := os.ReadFile(dir + e.Name() + "/schedstat")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			v, _ := strconv.ParseInt(f[0], 10, 64)
			sum += time.Duration(v)
		}
	}
	return sum
}

// servedBy floods frame through the serving process pid; serveCPU is
// the CPU time of all its threads.
func (a *apBench) servedBy(pid int, frame, want []byte) floodResult {
	s0 := pidCPU(pid)
	r := a.flood(frame, want, apFrames)
	r.serveCPU = pidCPU(pid) - s0
	if r.bad > 0 || r.lost > 0 {
		a.tb.Fatalf("%d frames back differ from Process's output, %d lost (of %d)", r.bad, r.lost, r.sent)
	}
	return r
}

// served floods frame through Serve and fills in Serve's thread CPU and
// the process's CPU over the flood.
func (a *apBench) served(tid int, frame, want []byte) floodResult {
	s0, p0 := threadCPU(tid), processCPU()
	r := a.flood(frame, want, apFrames)
	r.serveCPU, r.ownCPU = threadCPU(tid)-s0, processCPU()-p0
	if r.bad > 0 || r.lost > 0 {
		a.tb.Fatalf("%d frames back differ from Process's output, %d lost (of %d)", r.bad, r.lost, r.sent)
	}
	return r
}

func perFrame(d time.Duration, n int) float64 { return float64(d) / float64(n) }

// BenchmarkAFPacket puts the XDP program, the in-process Process call and
// the whole AF_PACKET path of Serve side by side on the same 64-byte
// frames (an established flow's ACK, a new flow's SYN), in one run:
//
//   - xdp: BPF_PROG_TEST_RUN, kernel-timed, as BenchmarkCompare;
//   - process: ns per Process call, as BenchmarkCompare;
//   - afpacket: frames sent into a veth from another namespace, read by
//     Serve from its AF_PACKET socket, processed and written back; wall
//     time per frame that came back (at most apWindow in flight, none
//     lost), and the CPU time of the serving process (all its threads) per
//     frame. Serve runs as cmd/stitch-router runs it, a plain goroutine of
//     a process inside the namespace (the test binary, re-executed);
//   - afpacket-locked: the same with Serve on a goroutine of this process
//     locked to a thread in the namespace, and that thread's CPU time;
//   - sender-alone: the sender with no Serve, wall time per frame, to show
//     it is not what bounds the afpacket figures.
//
// Each round measures everything once (apFrames frames per afpacket
// figure); run with -benchtime 3x. Needs root (skips without, fails under
// CI=true).
func BenchmarkAFPacket(b *testing.B) {
	x := loadXDP(b)
	ctx := context.Background()
	syn, ack := benchSetup(b, func(v xdp.VIP, c xdp.VIPConfig) error { return x.SetVIP(ctx, v, c) },
		func(i uint32, be xdp.Backend) error { return x.SetBackend(ctx, i, be) },
		func(id uint32, t []uint32) error { return x.SwapTable(ctx, id, t) })
	h := newHarness(b)
	u, _, _ := newBenchDataplane(b)
	a := newAPBench(b)
	if string(a.syn) != string(syn) || string(a.ack) != string(ack) {
		b.Fatal("the setups made different frames")
	}
	for b.Loop() {
		xest, xnew := h.measure(b, x.Program(), syn, ack)
		pest := userspaceNs(u, ack, 1_000_000)
		pnew := userspaceNs(u, syn, 1_000_000)

		alone := a.flood(ack, nil, apFrames)

		pid, stop := a.serveProcess()
		est := a.servedBy(pid, ack, a.wantAck)
		nw := a.servedBy(pid, syn, a.wantSyn)
		stop()

		tid, stop := a.serve()
		lest := a.served(tid, ack, a.wantAck)
		lnew := a.served(tid, syn, a.wantSyn)
		stop()

		aest, anew := perFrame(est.wall, est.back), perFrame(nw.wall, nw.back)
		b.ReportMetric(xest, "xdp-est-ns/pkt")
		b.ReportMetric(pest, "process-est-ns/pkt")
		b.ReportMetric(aest, "afpacket-est-ns/pkt")
		b.ReportMetric(perFrame(est.serveCPU, est.back), "afpacket-est-serve-cpu-ns/pkt")
		b.ReportMetric(perFrame(est.senderCPU, est.back), "afpacket-est-sender-cpu-ns/pkt")
		b.ReportMetric(perFrame(lest.wall, lest.back), "afpacket-locked-est-ns/pkt")
		b.ReportMetric(perFrame(lest.serveCPU, lest.back), "afpacket-locked-est-serve-cpu-ns/pkt")
		b.ReportMetric(perFrame(lest.ownCPU-lest.senderCPU, lest.back), "afpacket-locked-est-nonsender-cpu-ns/pkt")
		b.ReportMetric(pest/xest, "est-process/xdp")
		b.ReportMetric(aest/xest, "est-afpacket/xdp")

		b.ReportMetric(xnew, "xdp-new-ns/pkt")
		b.ReportMetric(pnew, "process-new-ns/pkt")
		b.ReportMetric(anew, "afpacket-new-ns/pkt")
		b.ReportMetric(perFrame(nw.serveCPU, nw.back), "afpacket-new-serve-cpu-ns/pkt")
		b.ReportMetric(perFrame(nw.senderCPU, nw.back), "afpacket-new-sender-cpu-ns/pkt")
		b.ReportMetric(perFrame(lnew.wall, lnew.back), "afpacket-locked-new-ns/pkt")
		b.ReportMetric(perFrame(lnew.serveCPU, lnew.back), "afpacket-locked-new-serve-cpu-ns/pkt")
		b.ReportMetric(pnew/xnew, "new-process/xdp")
		b.ReportMetric(anew/xnew, "new-afpacket/xdp")

		b.ReportMetric(perFrame(alone.wall, alone.sent), "sender-alone-ns/pkt")
		b.ReportMetric(perFrame(alone.senderCPU, alone.sent), "sender-alone-cpu-ns/pkt")
	}
}

package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/stitchnfv/stitch/internal/namedns"
)

// RelayBinary is the userspace WAN relay (cmd/stitch-wanrelay) the runner
// puts on links whose delay, jitter or loss the kernel cannot apply.
const RelayBinary = "stitch-wanrelay"

// The relay's two veth ends inside a WAN namespace.
const (
	wanIfA = "wanA"
	wanIfB = "wanB"
)

// relayReadyTimeout bounds how long Deploy waits for a relay to open its
// sockets: until then frames crossing the link would be lost.
const relayReadyTimeout = 5 * time.Second

// findRelay returns the relay binary: the one given, else the one next to
// the running executable (how stitchctl and stitch-wanrelay are
// installed), else the one on PATH; "" if there is none.
func findRelay(given string) string {
	if given != "" {
		return given
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), RelayBinary)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath(RelayBinary); err == nil {
		return p
	}
	return ""
}

// wanNetNSName is the namespace holding a relayed link's relay. The "--"
// keeps it apart from node namespaces: node names never start with '-'.
func wanNetNSName(t *Topology, l Link) string {
	return fmt.Sprintf("%s--wan%d", NSPrefix(t), l.Index)
}

// createRelayedLink builds nodeA[ifA] <-> [wanA | wanB] <-> nodeB[ifB]: two
// veth pairs whose inner ends sit in the link's WAN namespace, so the
// nodes see the interface names the topology gives.
func createRelayedLink(t *Topology, l Link, wanNS string) error {
	if err := addVeth(NetNSName(t, l.A.Node), l.A.Interface, l.A.MAC, wanNS, wanIfA, l.MTU); err != nil {
		return err
	}
	if err := addVeth(NetNSName(t, l.B.Node), l.B.Interface, l.B.MAC, wanNS, wanIfB, l.MTU); err != nil {
		return err
	}
	for _, ep := range []Endpoint{l.A, l.B} {
		if err := upEndpoint(t, ep, l.MTU); err != nil {
			return fmt.Errorf("%s: %w", ep, err)
		}
	}
	return withHandle(wanNS, func(h *netlink.Handle) error {
		for _, name := range []string{"lo", wanIfA, wanIfB} {
			link, err := h.LinkByName(name)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if err := h.LinkSetUp(link); err != nil {
				return fmt.Errorf("%s up: %w", name, err)
			}
		}
		return nil
	})
}

// addVeth creates a veth pair directly with one end, name (with mac, if
// any), in ns and the other, peer, in peerNS.
func addVeth(ns, name string, mac net.HardwareAddr, peerNS, peer string, mtu int) error {
	nsP, err := namedns.Open(peerNS)
	if err != nil {
		return err
	}
	defer nsP.Close()
	attrs := netlink.LinkAttrs{Name: name, MTU: mtu, HardwareAddr: mac}
	return withHandle(ns, func(h *netlink.Handle) error {
		veth := &netlink.Veth{LinkAttrs: attrs, PeerName: peer, PeerNamespace: netlink.NsFd(int(nsP))}
		if err := h.LinkAdd(veth); err != nil {
			return fmt.Errorf("add veth %s/%s: %w", name, peer, err)
		}
		return nil
	})
}

// startRelay starts the relay for a link inside its WAN namespace (so
// Destroy's sweep of the namespace's processes finds it too) and waits
// until it forwards. It returns the relay's pid and start time.
func startRelay(ctx context.Context, bin, wanNS string, imp Impairment, logPath string) (int, uint64, error) {
	ready := logPath + ".ready"
	_ = os.Remove(ready)
	log, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return 0, 0, fmt.Errorf("open relay log: %w", err)
	}
	defer log.Close()
	args := append([]string{"--netns", wanNS, "--a", wanIfA, "--b", wanIfB, "--ready-file", ready}, imp.relayArgs()...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group: a ^C meant for the deploying command must not
	// take the lab's relays with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := namedns.DoNamed(wanNS, cmd.Start); err != nil {
		return 0, 0, fmt.Errorf("start %s: %w", bin, err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	start, _ := procStartTime(pid)
	timer := time.NewTimer(relayReadyTimeout)
	defer timer.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(ready); err == nil {
			_ = os.Remove(ready)
			return pid, start, nil
		}
		select {
		case err := <-exited:
			// The log goes with the lab's state on rollback: quote it.
			out, _ := os.ReadFile(logPath)
			if len(out) > maxExecOutput {
				out = out[len(out)-maxExecOutput:]
			}
			return 0, 0, fmt.Errorf("%s exited before it was ready: %w: %s", bin, err, strings.TrimSpace(string(out)))
		case <-ctx.Done():
			_ = stopRelay(context.WithoutCancel(ctx), pid, start)
			return 0, 0, ctx.Err()
		case <-timer.C:
			_ = stopRelay(ctx, pid, start)
			return 0, 0, fmt.Errorf("%s not ready after %v; see %s", bin, relayReadyTimeout, logPath)
		case <-tick.C:
		}
	}
}

// procStartTime is a process's start time in clock ticks since boot
// (field 22 of /proc/<pid>/stat): with the pid it identifies the process,
// so a pid reused after a reboot or a crash is never killed by mistake.
func procStartTime(pid int) (uint64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// Fields after the parenthesised command name, which may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state), so field 22 is f[19].
	if len(f) < 20 {
		return 0, false
	}
	v, err := strconv.ParseUint(f[19], 10, 64)
	return v, err == nil
}

// stopRelay ends a relay recorded in a lab's state if that very process
// (same pid and start time) still runs: SIGTERM, then SIGKILL after a
// grace period.
func stopRelay(ctx context.Context, pid int, start uint64) error {
	if pid <= 0 {
		return nil
	}
	same := func() bool { return relayRunning(pid, start) }
	if !same() {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(2 * time.Second)
	for same() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for range 100 {
		if !same() {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.New("relay " + strconv.Itoa(pid) + " survives SIGKILL")
}

// realiseRelayed builds a link through a WAN namespace and starts its
// relay, which carries all of the link's impairment (rate included: a tbf
// on the node ends would shape before the relay's delay, unlike netem).
// The namespace and then the relay are recorded as soon as they exist.
func (r *Runner) realiseRelayed(ctx context.Context, t *Topology, l Link, st *labState, dir, relay string) error {
	wanNS := wanNetNSName(t, l)
	if err := createNetNS(wanNS); err != nil {
		return err
	}
	st.Namespaces = append(st.Namespaces, wanNS)
	st.Links = append(st.Links, linkState{A: l.A.String(), B: l.B.String(), WAN: l.WAN, WANNetNS: wanNS})
	ls := &st.Links[len(st.Links)-1]
	if err := writeState(dir, st); err != nil {
		return err
	}
	if err := createRelayedLink(t, l, wanNS); err != nil {
		return err
	}
	ls.RelayLog = filepath.Join(dir, fmt.Sprintf("wan%d.log", l.Index))
	pid, start, err := startRelay(ctx, relay, wanNS, l.WAN, ls.RelayLog)
	if err != nil {
		return err
	}
	ls.RelayPID, ls.RelayStart, ls.RelayBin, ls.Applied = pid, start, relay, true
	r.log.InfoContext(ctx, "WAN relay started", "lab", t.Name, "link", l.A.String()+"--"+l.B.String(), "netns", wanNS, "pid", pid)
	return writeState(dir, st)
}

// relayRunning reports whether a link's recorded relay still runs.
func relayRunning(pid int, start uint64) bool {
	st, ok := procStartTime(pid)
	return ok && st == start && len(livePIDs([]int{pid})) == 1
}

// Repair restarts the WAN relays of a deployed lab that no longer run (a
// relay that crashed or was killed leaves its link cut) and returns the
// links it restarted ("a:if--b:if"). Relays that run are left alone.
func (r *Runner) Repair(ctx context.Context, name string) ([]string, error) {
	if !labNameRE.MatchString(name) {
		return nil, fmt.Errorf("%w: bad lab name %q", ErrInvalid, name)
	}
	dir := r.labDir(name)
	st, err := readState(dir)
	if err != nil {
		return nil, fmt.Errorf("repair lab %s: %w", name, err)
	}
	var restarted []string
	for i := range st.Links {
		l := &st.Links[i]
		if l.WANNetNS == "" || relayRunning(l.RelayPID, l.RelayStart) {
			continue
		}
		bin := l.RelayBin
		if bin == "" {
			bin = findRelay("")
		}
		if bin == "" {
			return restarted, fmt.Errorf("repair lab %s: link %s--%s: %w: no %s to restart", name, l.A, l.B, ErrUnsupported, RelayBinary)
		}
		pid, start, err := startRelay(ctx, bin, l.WANNetNS, l.WAN, l.RelayLog)
		if err != nil {
			return restarted, fmt.Errorf("repair lab %s: link %s--%s: %w", name, l.A, l.B, err)
		}
		l.RelayPID, l.RelayStart, l.RelayBin = pid, start, bin
		if err := writeState(dir, st); err != nil {
			return restarted, err
		}
		restarted = append(restarted, l.A+"--"+l.B)
		r.log.InfoContext(ctx, "WAN relay restarted", "lab", name, "link", l.A+"--"+l.B, "pid", pid)
	}
	return restarted, nil
}

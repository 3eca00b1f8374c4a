package local

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/vim"
	"github.com/stitchnfv/stitch/xdp/decap"
)

// anycastAddrs parses a port's anycast addresses and tunnel sources: both
// or neither, valid addresses.
func anycastAddrs(ps vim.PortSpec) (anycast, routers []netip.Addr, err error) {
	if (len(ps.Anycast) == 0) != (len(ps.TunnelsFrom) == 0) {
		return nil, nil, fmt.Errorf("%w: anycast addresses need the routers they are tunnelled from, and routers need addresses", vim.ErrInvalid)
	}
	parse := func(field string, in []string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, s := range in {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("%w: %s %q: %v", vim.ErrInvalid, field, s, err)
			}
			out = append(out, a.Unmap())
		}
		return out, nil
	}
	if anycast, err = parse("anycast address", ps.Anycast); err != nil {
		return nil, nil, err
	}
	if routers, err = parse("tunnel source", ps.TunnelsFrom); err != nil {
		return nil, nil, err
	}
	return anycast, routers, nil
}

// serveAnycast makes an instance answer its anycast addresses on link
// behind the service routers: the addresses go on its loopback (it
// answers the clients with them, directly), and the decapsulation program
// on link opens the routers' tunnels. The program is attached through
// netlink rather than a BPF link so that it stays when this process
// exits: the instance outlives its orchestrator. It goes with the
// instance's namespace.
func serveAnycast(ctx context.Context, ns netns.NsHandle, h *netlink.Handle, l netlink.Link, rec portRecord) error {
	if len(rec.Anycast) == 0 {
		return nil
	}
	spec := vim.PortSpec{Anycast: rec.Anycast, TunnelsFrom: rec.TunnelsFrom}
	anycast, routers, err := anycastAddrs(spec)
	if err != nil {
		return err
	}
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("anycast: %w", err)
	}
	for _, a := range anycast {
		bits := 32
		if a.Is6() {
			bits = 128
		}
		if err := h.AddrAdd(lo, &netlink.Addr{IPNet: ipNet(a, bits)}); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("anycast address %s: %w", a, err)
		}
	}
	prog, err := decap.Load(ctx, routers)
	if err != nil {
		return err
	}
	defer prog.Close() // the attachment holds the program and its map
	if err := attachXDP(ns, l, prog.Prog()); err != nil {
		return fmt.Errorf("anycast: attach the tunnel decapsulation to %s: %w", l.Attrs().Name, err)
	}
	return nil
}

// readyForwarder lets a veth's site end take the frames its instance end
// sends back from XDP (XDP_TX): a veth delivers XDP frames only to a peer
// that polls with NAPI, which it does while an XDP program is attached.
// The program passes everything. GRO stays off so that the userspace
// datapath never reads a coalesced frame larger than the MTU.
func readyForwarder(s *site, hostIface string) error {
	pass, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name: "stitch_pass", Type: ebpf.XDP, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2 /* XDP_PASS */), asm.Return()},
	})
	if err != nil {
		return fmt.Errorf("forwarder port %s: load XDP pass: %w", hostIface, err)
	}
	defer pass.Close()
	l, err := s.nl.LinkByName(hostIface)
	if err != nil {
		return fmt.Errorf("forwarder port: %w", err)
	}
	if err := attachXDP(s.ns, l, pass); err != nil {
		return fmt.Errorf("forwarder port %s: attach XDP pass: %w", hostIface, err)
	}
	return namedns.Do(s.ns, func() error { return ethtoolOff(hostIface, ethtoolSGRO) })
}

// attachXDP attaches prog to l (in ns) in native mode through netlink.
func attachXDP(ns netns.NsHandle, l netlink.Link, prog *ebpf.Program) error {
	return namedns.Do(ns, func() error {
		return netlink.LinkSetXdpFdWithFlags(l, prog.FD(), nl.XDP_FLAGS_DRV_MODE)
	})
}

package lab

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/vishvananda/netlink"
)

// Lab is a deployed lab as Inspect sees it.
type Lab struct {
	Name string
	// Complete is false for a lab whose deploy did not finish (a crash):
	// Destroy it.
	Complete bool
	Nodes    []NodeInfo
	Links    []LinkInfo
	// Warnings about what the lab asked for but did not get.
	Warnings []string
}

// NodeInfo describes one realised node.
type NodeInfo struct {
	Name  string
	Kind  string
	Site  string
	NetNS string
	// PID of the node's cmd, 0 if none; its output goes to Log.
	PID        int
	Log        string
	Interfaces []Interface
}

// Interface is a network interface inside a node's namespace.
type Interface struct {
	Name  string
	MAC   string
	MTU   int
	Up    bool
	Addrs []netip.Prefix
}

// LinkInfo describes one realised link.
type LinkInfo struct {
	A, B string
	WAN  Impairment
	// Applied is false when WAN delay/jitter/loss were recorded but not
	// put on the link (no relay nor netem, allowed by
	// AllowUnappliedImpairments), or when the link's relay no longer runs.
	Applied bool
	// Relay is set for a link carried by stitch-wanrelay.
	Relay *RelayInfo `json:",omitempty"`
}

// RelayInfo is the stitch-wanrelay process carrying a link's impairment.
type RelayInfo struct {
	NetNS   string // the WAN namespace between the two nodes
	PID     int
	Running bool
	Log     string
}

// Node returns the node of that name.
func (l *Lab) Node(name string) (NodeInfo, bool) {
	i := slices.IndexFunc(l.Nodes, func(n NodeInfo) bool { return n.Name == name })
	if i < 0 {
		return NodeInfo{}, false
	}
	return l.Nodes[i], true
}

// Inspect lists a lab's nodes, their namespaces, interfaces and addresses
// as the kernel has them now. ErrNotDeployed if there is no such lab.
func (r *Runner) Inspect(ctx context.Context, name string) (*Lab, error) {
	if !labNameRE.MatchString(name) {
		return nil, fmt.Errorf("%w: bad lab name %q", ErrInvalid, name)
	}
	st, err := readState(r.labDir(name))
	if err != nil {
		return nil, fmt.Errorf("inspect lab %s: %w", name, err)
	}
	lab := &Lab{Name: name, Complete: st.Complete, Warnings: st.Warnings}
	for _, n := range st.Nodes {
		ifs, err := interfaces(n.NetNS)
		if st.Containerlab && errors.Is(err, fs.ErrNotExist) {
			err = nil // containerlab links a namespace only for a running container
		}
		if err != nil {
			return nil, fmt.Errorf("inspect lab %s node %s: %w", name, n.Name, err)
		}
		lab.Nodes = append(lab.Nodes, NodeInfo{Name: n.Name, Kind: n.Kind, Site: n.Site, NetNS: n.NetNS, PID: n.PID, Log: n.Log, Interfaces: ifs})
	}
	for _, l := range st.Links {
		li := LinkInfo{A: l.A, B: l.B, WAN: l.WAN, Applied: l.Applied}
		if l.WANNetNS != "" {
			running := relayRunning(l.RelayPID, l.RelayStart)
			li.Relay = &RelayInfo{NetNS: l.WANNetNS, PID: l.RelayPID, Running: running, Log: l.RelayLog}
			li.Applied = l.Applied && running
		}
		lab.Links = append(lab.Links, li)
	}
	return lab, nil
}

// interfaces lists a namespace's interfaces except lo, with their
// addresses (IPv6 link-local ones left out: every interface has one).
func interfaces(ns string) ([]Interface, error) {
	var out []Interface
	err := withHandle(ns, func(h *netlink.Handle) error {
		links, err := h.LinkList()
		if err != nil {
			return err
		}
		for _, l := range links {
			a := l.Attrs()
			if a.Name == "lo" {
				continue
			}
			ifc := Interface{Name: a.Name, MAC: a.HardwareAddr.String(), MTU: a.MTU, Up: a.Flags&net.FlagUp != 0}
			addrs, err := h.AddrList(l, netlink.FAMILY_ALL)
			if err != nil {
				return err
			}
			for _, ad := range addrs {
				ip, ok := netip.AddrFromSlice(ad.IP)
				if !ok || ip.IsLinkLocalUnicast() {
					continue
				}
				ones, _ := ad.Mask.Size()
				ifc.Addrs = append(ifc.Addrs, netip.PrefixFrom(ip.Unmap(), ones))
			}
			out = append(out, ifc)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b Interface) int { return strings.Compare(a.Name, b.Name) })
	return out, err
}

package lab

import (
	"fmt"

	"github.com/vishvananda/netlink"

	"github.com/stitchnfv/stitch/internal/namedns"
)

// checkRealisable reports, all at once, what in a valid topology the
// namespace runner cannot build. It runs before anything is created.
func checkRealisable(t *Topology) error {
	p := &problems{}
	// A Topology built by hand has not been through Parse: names become
	// paths under /run/netns and the state directory, so check them here.
	if !labNameRE.MatchString(t.Name) {
		p.add("name", "%q is not a valid lab name", t.Name)
	}
	if !prefixRE.MatchString(t.Prefix) {
		p.add("prefix", "%q is not a valid prefix", t.Prefix)
	}
	for _, n := range t.Nodes {
		if !nodeNameRE.MatchString(n.Name) {
			p.add("topology.nodes."+n.Name, "not a valid node name")
		}
		if n.Kind != KindLinux && n.Kind != KindBridge {
			p.add("topology.nodes."+n.Name+".kind", "kind %q cannot be realised with network namespaces (only %s and %s)", n.Kind, KindLinux, KindBridge)
		}
	}
	for _, l := range t.Links {
		for j, ep := range []Endpoint{l.A, l.B} {
			if _, ok := t.Node(ep.Node); !ok {
				p.add(fmt.Sprintf("topology.links[%d].endpoints[%d]", l.Index, j), "unknown node %q", ep.Node)
			}
			if err := checkIfName(ep.Interface); err != nil {
				p.add(fmt.Sprintf("topology.links[%d].endpoints[%d]", l.Index, j), "interface %q: %v", ep.Interface, err)
			} else if ep.Interface == "lo" || ep.Interface == bridgeDev && kindOf(t, ep.Node) == KindBridge {
				p.add(fmt.Sprintf("topology.links[%d].endpoints[%d]", l.Index, j), "interface name %q is taken in the node's namespace", ep.Interface)
			}
		}
	}
	return p.err(ErrUnsupported)
}

func kindOf(t *Topology, node string) string {
	n, _ := t.Node(node)
	return n.Kind
}

// setupNode brings lo up and, for a bridge node, creates its bridge.
func setupNode(ns, kind string) error {
	return withHandle(ns, func(h *netlink.Handle) error {
		lo, err := h.LinkByName("lo")
		if err != nil {
			return fmt.Errorf("lo: %w", err)
		}
		if err := h.LinkSetUp(lo); err != nil {
			return fmt.Errorf("lo up: %w", err)
		}
		if kind != KindBridge {
			return nil
		}
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: bridgeDev}}
		if err := h.LinkAdd(br); err != nil {
			return fmt.Errorf("add bridge: %w", err)
		}
		return h.LinkSetUp(br)
	})
}

func withHandle(ns string, fn func(h *netlink.Handle) error) error {
	nsh, err := namedns.Open(ns)
	if err != nil {
		return err
	}
	defer nsh.Close()
	h, err := netlink.NewHandleAt(nsh)
	if err != nil {
		return fmt.Errorf("netlink in %s: %w", ns, err)
	}
	defer h.Close()
	return fn(h)
}

// createLink creates the veth pair directly with its ends in the two
// nodes' namespaces under their final names, so no name ever exists in the
// host namespace and parallel labs cannot collide there.
func createLink(t *Topology, l Link) error {
	nsB, err := namedns.Open(NetNSName(t, l.B.Node))
	if err != nil {
		return err
	}
	defer nsB.Close()
	err = withHandle(NetNSName(t, l.A.Node), func(h *netlink.Handle) error {
		veth := &netlink.Veth{
			LinkAttrs:        netlink.LinkAttrs{Name: l.A.Interface, MTU: l.MTU, HardwareAddr: l.A.MAC},
			PeerName:         l.B.Interface,
			PeerHardwareAddr: l.B.MAC,
			PeerNamespace:    netlink.NsFd(int(nsB)),
		}
		if err := h.LinkAdd(veth); err != nil {
			return fmt.Errorf("add veth: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, ep := range []Endpoint{l.A, l.B} {
		if err := upEndpoint(t, ep, l.MTU); err != nil {
			return fmt.Errorf("%s: %w", ep, err)
		}
	}
	return nil
}

func upEndpoint(t *Topology, ep Endpoint, mtu int) error {
	bridged := kindOf(t, ep.Node) == KindBridge
	return withHandle(NetNSName(t, ep.Node), func(h *netlink.Handle) error {
		link, err := h.LinkByName(ep.Interface)
		if err != nil {
			return err
		}
		if mtu > 0 && link.Attrs().MTU != mtu {
			if err := h.LinkSetMTU(link, mtu); err != nil {
				return fmt.Errorf("mtu: %w", err)
			}
		}
		if bridged {
			br, err := h.LinkByName(bridgeDev)
			if err != nil {
				return err
			}
			if err := h.LinkSetMaster(link, br); err != nil {
				return fmt.Errorf("enslave to %s: %w", bridgeDev, err)
			}
		}
		return h.LinkSetUp(link)
	})
}

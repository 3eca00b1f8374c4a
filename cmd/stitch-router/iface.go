package main

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// linkOf finds the interface of this network namespace that holds addr:
// the router's one interface on the service network.
func linkOf(addr netip.Addr) (netlink.Link, error) {
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok || ip.Unmap() != addr {
			continue
		}
		l, err := netlink.LinkByIndex(a.LinkIndex)
		if err != nil {
			return nil, fmt.Errorf("interface %d holding %s: %w", a.LinkIndex, addr, err)
		}
		if l.Attrs().Flags&net.FlagLoopback != 0 {
			return nil, fmt.Errorf("%s is on loopback interface %s: want the service network's interface", addr, l.Attrs().Name)
		}
		return l, nil
	}
	return nil, fmt.Errorf("no interface in this network namespace holds %s", addr)
}

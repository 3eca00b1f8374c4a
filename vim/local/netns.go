package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// configureNetNS runs inside a site namespace and disables IPv6 there, for
// the bridges and veth ends created in it later too: the data plane is
// IPv4, and the link-local autoconfiguration of every new port (DAD, MLD,
// router solicitations) would otherwise be flooded to every port of the
// bridges, costing each create time in proportion to the instances running.
// (Instance namespaces get no sysctl write: looking up /proc/sys/net costs
// time in proportion to the number of namespaces on the host; their
// interfaces are told not to autoconfigure over netlink instead.)
func configureNetNS() error {
	for _, key := range []string{"net.ipv6.conf.default.disable_ipv6", "net.ipv6.conf.all.disable_ipv6"} {
		if err := setSysctl(key, "1"); err != nil && !errors.Is(err, fs.ErrNotExist) { // no IPv6: fine
			return err
		}
	}
	return nil
}

// isolateARP runs inside a site namespace on the OVN fabric. The host
// ends of instance veths live there too (the userspace datapath reads them
// with AF_PACKET, but the kernel still sees every frame), and by default
// Linux answers an ARP request on any interface for any of its addresses:
// an instance asking for the site's access address would learn the MAC of
// its own veth's host end, and its replies would reach the site's kernel
// directly, bypassing OVN (and its conntrack, which must undo a load
// balancer's DNAT). arp_ignore=1 answers only on the interface that holds
// the address.
func isolateARP() error {
	for _, key := range []string{"net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.default.arp_ignore"} {
		if err := setSysctl(key, "1"); err != nil {
			return err
		}
	}
	return nil
}

// quickARPRetry runs inside a site namespace on the OVN fabric. The site's
// access ports probe instances that are still coming up, and clients try
// addresses (a service access point) whose logical flows may still be on
// their way; an ARP request that went unanswered is retried only after
// retrans_time, 1 s by default, which would delay the first answer by up
// to a second after OVN is ready.
func quickARPRetry(iface string) error {
	return setSysctl("net.ipv4.neigh."+iface+".retrans_time_ms", "100")
}

// setSysctl writes a /proc/sys value; call it inside the target namespace.
func setSysctl(key, value string) error {
	path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", key, value, err)
	}
	return nil
}

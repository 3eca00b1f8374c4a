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

// setSysctl writes a /proc/sys value; call it inside the target namespace.
func setSysctl(key, value string) error {
	path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", key, value, err)
	}
	return nil
}

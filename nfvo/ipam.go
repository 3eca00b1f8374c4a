package nfvo

import (
	"fmt"
	"net/netip"
)

// reservedHosts is how many leading host addresses of every virtual link
// stitch leaves to the infrastructure (site gateways of the VIM).
const reservedHosts = 15

// allocateIP returns the lowest free address of cidr above the reserved
// range, skipping used.
func allocateIP(cidr string, used map[string]bool) (string, error) {
	pfx, err := netip.ParsePrefix(cidr)
	if err != nil {
		return "", fmt.Errorf("%w: CIDR %q: %w", ErrInvalid, cidr, err)
	}
	pfx = pfx.Masked()
	addr := pfx.Addr()
	for range reservedHosts + 1 {
		addr = addr.Next()
	}
	for ; addr.IsValid() && pfx.Contains(addr); addr = addr.Next() {
		next := addr.Next()
		if addr.Is4() && (!next.IsValid() || !pfx.Contains(next)) {
			break // the IPv4 broadcast address
		}
		if !used[addr.String()] {
			return addr.String(), nil
		}
	}
	return "", fmt.Errorf("%w: virtual link %s has no free address left", ErrState, cidr)
}

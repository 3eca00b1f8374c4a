package local

import (
	"context"
	"fmt"
	"net"

	"github.com/stitchnfv/stitch/internal/namedns"
	"github.com/stitchnfv/stitch/vim"
)

// DialContext opens a connection from inside a site's namespace, as a
// client on the site's networks would. network is a Go network ("tcp",
// "udp", …); it may instead name a stitch network reaching the site, which
// dials TCP from the site's address on that network.
//
// The socket is created on a locked OS thread that has joined the site
// namespace; the thread goes back to its own namespace afterwards, or is
// discarded if it cannot.
func (d *Driver) DialContext(ctx context.Context, siteName, network, address string) (net.Conn, error) {
	if err := d.begin(); err != nil {
		return nil, err
	}
	defer d.end()
	s := d.sites[siteName]
	if s == nil {
		return nil, fmt.Errorf("%w: %q", vim.ErrUnknownSite, siteName)
	}
	var dialer net.Dialer
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "ip", "ip4", "ip6", "unix", "unixgram", "unixpacket":
	default:
		d.mu.Lock()
		n := d.nets[network]
		var src net.IP
		if n != nil && n.ready {
			for _, sn := range n.rec.Sites {
				if sn == siteName {
					src = net.IP(n.ipam.siteAddr(s.index).AsSlice())
				}
			}
		}
		d.mu.Unlock()
		if src == nil {
			return nil, fmt.Errorf("%w: dial network %q: neither a Go network nor a stitch network reaching site %s",
				vim.ErrInvalid, network, siteName)
		}
		dialer.LocalAddr = &net.TCPAddr{IP: src}
		network = "tcp"
	}
	var conn net.Conn
	err := namedns.Do(s.ns, func() error {
		c, err := dialer.DialContext(ctx, network, address)
		conn = c
		return err
	})
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, fmt.Errorf("dial %s %s from site %s: %w", network, address, siteName, err)
	}
	return conn, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/vishvananda/netlink"

	"github.com/stitchnfv/stitch/servicerouter"
	"github.com/stitchnfv/stitch/xdp"
)

// dataplane is a started data plane and how to stop it.
type dataplane struct {
	servicerouter.Dataplane
	// stop detaches from the interface and frees the data plane.
	stop func() error
	// failed reports a data plane that stopped by itself; nil if it
	// cannot.
	failed <-chan error
}

// tunnelSources are the data plane's tunnel source addresses: the
// router's own address, in its family.
func tunnelSources(addr netip.Addr) xdp.Options {
	if addr.Is4() {
		return xdp.Options{RouterIPv4: addr}
	}
	return xdp.Options{RouterIPv6: addr}
}

// startDataplane starts the data plane --mode names on l.
func startDataplane(ctx context.Context, opts options, l netlink.Link, log *slog.Logger) (dataplane, error) {
	if opts.mode == modeUserspace {
		return startUserspace(ctx, opts, l, log)
	}
	return startXDP(ctx, opts, l, log)
}

// startXDP loads the XDP program and attaches it to l.
func startXDP(ctx context.Context, opts options, l netlink.Link, log *slog.Logger) (dataplane, error) {
	o := tunnelSources(opts.address)
	o.ConnTableSize = opts.connTable
	r, err := xdp.Load(ctx, o)
	if err != nil {
		return dataplane{}, err
	}
	ifindex, native := l.Attrs().Index, opts.mode == modeNative
	if err := r.Attach(ctx, ifindex, native); err != nil {
		err = errors.Join(err, r.Close())
		if native {
			err = fmt.Errorf("%w (does the driver of %s support native XDP? try --mode generic)", err, l.Attrs().Name)
		}
		return dataplane{}, err
	}
	log.Info("XDP program attached", "interface", l.Attrs().Name, "ifindex", ifindex, "mode", opts.mode)
	if native && l.Type() == "veth" {
		// A veth hands XDP_TX frames only to a peer that polls with NAPI
		// (an XDP program on it); otherwise it counts them as sent and
		// the peer drops them. stitch's VIM attaches one to the peers of
		// forwarder ports (vim.PortSpec.Forwarder).
		log.Info("native XDP on a veth: encapsulated packets reach the peer only while an XDP program runs on the peer (else use --mode generic)",
			"interface", l.Attrs().Name)
	}
	stop := func() error {
		return errors.Join(r.Detach(ifindex), r.Close())
	}
	return dataplane{Dataplane: r, stop: stop}, nil
}

package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/vishvananda/netlink"

	"github.com/stitchnfv/stitch/servicerouter/userspace"
)

// startUserspace runs the userspace data plane on l through AF_PACKET:
// no BPF needed, for kernels or interfaces where XDP cannot attach.
func startUserspace(ctx context.Context, opts options, l netlink.Link, log *slog.Logger) (dataplane, error) {
	o := tunnelSources(opts.address)
	o.ConnTableSize = opts.connTable
	d, err := userspace.New(o)
	if err != nil {
		return dataplane{}, err
	}
	ifindex := l.Attrs().Index
	if mac := l.Attrs().HardwareAddr; len(mac) == 6 {
		if err := d.SetInterfaceMAC(ctx, ifindex, mac); err != nil {
			return dataplane{}, err
		}
	}
	// Serve's context is its own: the data plane stops when the router
	// stops it, after the API and the rebuilds, not when the signal comes.
	sctx, cancel := context.WithCancel(context.Background())
	failed := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := d.Serve(sctx, ifindex); err != nil {
			failed <- fmt.Errorf("userspace data plane: %w", err)
		}
	}()
	log.Info("userspace data plane serving", "interface", l.Attrs().Name, "ifindex", ifindex)
	stop := func() error {
		cancel()
		<-done
		return nil
	}
	return dataplane{Dataplane: d, stop: stop, failed: failed}, nil
}

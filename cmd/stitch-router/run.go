package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/stitchnfv/stitch/internal/samplekit"
	"github.com/stitchnfv/stitch/servicerouter"
	"github.com/stitchnfv/stitch/servicerouter/control"
	"github.com/stitchnfv/stitch/servicerouter/slots"
	"github.com/stitchnfv/stitch/xdp"
)

// shutdownTimeout bounds how long in-flight API requests may finish.
const shutdownTimeout = 5 * time.Second

func run(ctx context.Context, args, env []string, stderr io.Writer) error {
	opts, err := parseFlags(args, env, stderr)
	if err != nil {
		return err
	}
	return serve(ctx, opts, env, samplekit.NewLogger(stderr, opts.logLevel))
}

// serve runs the router until ctx ends, then stops it: the API first (no
// change arrives while the data plane goes), then the rebuilds, then the
// data plane.
func serve(ctx context.Context, opts options, env []string, log *slog.Logger) (err error) {
	l, err := linkOf(opts.address)
	if err != nil {
		return err
	}
	dp, err := startDataplane(ctx, opts, l, log)
	if err != nil {
		return err
	}
	defer func() {
		if serr := dp.stop(); serr != nil {
			err = errors.Join(err, fmt.Errorf("stop data plane: %w", serr))
		}
	}()
	r, err := servicerouter.New(dp, slots.DefaultParams(), xdp.RingSize, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", netip.AddrPortFrom(opts.address, opts.controlPort).String())
	if err != nil {
		return fmt.Errorf("control API: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel: the rebuilds end before the data plane stops
	defer cancel()
	wg.Go(func() { r.Run(ctx) })
	wg.Go(func() { serveTelemetry(ctx, r, opts.address, env, log) })

	srv := newServer(r, opts, log)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("stitch-router serving", "address", opts.address, "controlPort", opts.controlPort,
		"interface", l.Attrs().Name, "mode", opts.mode, "connTable", opts.connTable)

	select {
	case err := <-served:
		return fmt.Errorf("control API: %w", err)
	case err = <-dp.failed:
		log.Error("data plane failed", "err", err)
	case <-ctx.Done():
	}
	log.Info("stitch-router stopping")
	sctx, scancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer scancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		err = errors.Join(err, fmt.Errorf("control API shutdown: %w", serr))
	}
	return err
}

// newServer serves r's control API.
func newServer(r *servicerouter.Router, opts options, log *slog.Logger) *http.Server {
	src := tunnelSources(opts.address)
	return &http.Server{
		Handler:           control.NewHandler(r, log, control.TunnelSources(src.RouterIPv4, src.RouterIPv6)),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

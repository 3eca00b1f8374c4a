// Command stitch-wanrelay emulates one WAN link in userspace: it forwards
// frames between two interfaces of a network namespace, delayed, jittered,
// dropped and rate-limited (package internal/wanem), for kernels without
// tc netem. The lab runner starts one per impaired link; it runs until
// SIGTERM or SIGINT and then exits 0.
//
//	stitch-wanrelay --netns clab-two-site--wan1 --a wanA --b wanB --delay 20ms --rate 1gbit
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/stitchnfv/stitch/internal/wanem"
	"github.com/stitchnfv/stitch/lab"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "stitch-wanrelay: %v\n", err)
		os.Exit(1)
	}
}

// config is the parsed command line.
type config struct {
	netns, a, b string
	readyFile   string
	imp         lab.Impairment
}

func parseArgs(args []string, stderr io.Writer) (config, error) {
	var c config
	var delay, jitter, loss, rate string
	fs := flag.NewFlagSet("stitch-wanrelay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.netns, "netns", "", "named network namespace holding both interfaces (default: the current one)")
	fs.StringVar(&c.a, "a", "", "first interface (required)")
	fs.StringVar(&c.b, "b", "", "second interface (required)")
	fs.StringVar(&delay, "delay", "", "one-way delay, each direction, e.g. 20ms")
	fs.StringVar(&jitter, "jitter", "", "delay variation, e.g. 2ms (needs --delay)")
	fs.StringVar(&loss, "loss", "", "random loss, each direction, e.g. 0.1%")
	fs.StringVar(&rate, "rate", "", "rate limit, each direction, e.g. 100mbit")
	fs.StringVar(&c.readyFile, "ready-file", "", "file to create once the relay forwards (for whoever started it)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.a == "" || c.b == "" || c.a == c.b {
		return c, errors.New("--a and --b must name two different interfaces")
	}
	imp, err := lab.ParseWAN(delay, jitter, loss, rate)
	if err != nil {
		return c, err
	}
	c.imp = imp
	return c, nil
}

// run relays until ctx ends; a clean stop is a nil error.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	c, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	imp := wanem.Impairment{
		Delay:   c.imp.Delay,
		Jitter:  c.imp.Jitter,
		Loss:    c.imp.LossPercent / 100,
		RateBps: c.imp.RateBits,
	}
	r, err := wanem.Start(ctx, wanem.Config{NetNS: c.netns, IfaceA: c.a, IfaceB: c.b, AtoB: imp, BtoA: imp, Logger: log})
	if err != nil {
		return fmt.Errorf("start relay: %w", err)
	}
	if c.readyFile != "" {
		if err := os.WriteFile(c.readyFile, []byte(fmt.Sprintln(os.Getpid())), 0o644); err != nil {
			return errors.Join(fmt.Errorf("ready file: %w", err), r.Close())
		}
	}
	<-ctx.Done()
	// wanem logs the start and, on Close, each direction's counters.
	if err := r.Close(); err != nil {
		return fmt.Errorf("stop relay: %w", err)
	}
	return nil
}

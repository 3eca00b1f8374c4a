// Command stitchd is the stitch daemon: NFVO, VNFM, the local VIM and the
// embedded store in one process, serving the northbound API.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/stitchnfv/stitch/internal/config"
	"github.com/stitchnfv/stitch/internal/daemon"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "stitchd:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("stitchd", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file (default: the embedded two-site lab)")
	listen := fs.String("listen", "", "API listen address (overrides the config)")
	stateDir := fs.String("state-dir", "", "state directory (overrides the config)")
	purge := fs.Bool("purge", false, "stop and remove everything this configuration's daemon runs on the host (instances, sites, chassis, the embedded OVN central), with or without records, and exit; the state directory is left for you to remove")
	var programPath multiFlag
	fs.Var(&programPath, "program-path", "directory searched for VDU programs before $PATH (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := config.Default()
	if *cfgPath != "" {
		var err error
		if cfg, err = config.Load(*cfgPath); err != nil {
			return err
		}
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if *stateDir != "" {
		cfg.StateDir = *stateDir
	}
	cfg.ProgramPath = append(cfg.ProgramPath, programPath...)
	if err := cfg.Validate(); err != nil {
		return err
	}
	level := slog.LevelInfo
	if cfg.LogLevel != "" {
		_ = level.UnmarshalText([]byte(cfg.LogLevel)) // validated above
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *purge {
		if err := daemon.Purge(ctx, cfg); err != nil {
			return err
		}
		log.Info("purged; the records are still in the state directory", "state-dir", cfg.StateDir)
		return nil
	}
	d, err := daemon.Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- d.Wait() }()
	select {
	case <-ctx.Done():
		log.Info("shutting down; instances keep running")
	case err = <-errc:
	}
	return joinErr(err, d.Close())
}

func joinErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

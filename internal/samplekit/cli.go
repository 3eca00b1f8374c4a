package samplekit

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// RunFunc is a program's body: flags in args, the environment contract in
// env (KEY=VALUE), usage and logs on stderr. It returns when ctx ends.
type RunFunc func(ctx context.Context, args, env []string, stderr io.Writer) error

// UsageError is a bad command line; the usage has been printed already.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return "usage: " + e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Main runs run with the process's arguments, environment and stderr
// until SIGTERM or SIGINT, then exits 0 after a clean stop or -h, 2 after
// a usage error and 1 otherwise.
func Main(run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := run(ctx, os.Args[1:], os.Environ(), os.Stderr)
	stop()
	var usage *UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, &usage):
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[0], err)
		os.Exit(1)
	}
}

// NewFlagSet returns a flag set whose -h prints synopsis, about, the flags
// and the environment contract on stderr.
func NewFlagSet(name, synopsis, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s %s\n\n%s\n\nflags:\n", name, synopsis, strings.TrimSpace(about))
		fs.PrintDefaults()
		fmt.Fprint(stderr, envHelp)
	}
	return fs
}

const envHelp = `
environment (set by the stitch VNFM):
  STITCH_INSTANCE_ID, STITCH_NS_INSTANCE, STITCH_VNF_PROFILE, STITCH_VDU
        identity; the instance id names this hop in X-Stitch-Trace
  STITCH_SLOTS
        session slots of this instance
  STITCH_ADDR_<CPD>
        this instance's IP on each connection point (e.g. STITCH_ADDR_DATA)
  STITCH_BINDINGS
        JSON file {"next": ["ip:port"], "deps": {"<vnf-profile>": ["ip:port"]}},
        re-read when it changes; missing means no neighbours
`

// ParseFlags parses args, returning flag.ErrHelp for -h and a *UsageError
// for a bad command line, including positional arguments nobody expects.
func ParseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &UsageError{Err: err}
	}
	if fs.NArg() > 0 {
		return Usagef(fs, "unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// Usagef reports a bad command line found after parsing, with the usage.
func Usagef(fs *flag.FlagSet, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	fmt.Fprintf(fs.Output(), "%v\n", err)
	fs.Usage()
	return &UsageError{Err: err}
}

// StringList is a flag that may be repeated.
type StringList []string

func (l *StringList) String() string { return strings.Join(*l, ",") }

func (l *StringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// LogLevelFlag registers --log-level.
func LogLevelFlag(fs *flag.FlagSet) *slog.Level {
	var lvl slog.Level
	fs.TextVar(&lvl, "log-level", slog.LevelInfo, "log `level`: debug, info, warn or error (debug logs every request)")
	return &lvl
}

// Command stitch-firewall is stitch's sample HTTP-aware firewall VNF: it
// drops requests matching a deny rule and forwards the others, round
// robin, to the next function of the service chain.
package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/stitchnfv/stitch/internal/samplekit"
	"github.com/stitchnfv/stitch/internal/samplekit/firewall"
)

const about = `HTTP-aware firewall in a stitch service chain. A request matching a deny
rule is dropped: the connection closes with no answer and /stats counts it
in "dropped". Other requests go round robin to the instances in the
bindings' "next" set, with this hop appended to X-Stitch-Trace.
--deny-src matches the TCP peer address, never X-Forwarded-For, and the
forwarded X-Forwarded-For starts afresh from that peer.`

func main() { samplekit.Main(run) }

type options struct {
	listen   string
	rules    firewall.Rules
	logLevel slog.Level
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := samplekit.NewFlagSet("stitch-firewall",
		"--listen ADDR [--deny-src CIDR]... [--deny-path PREFIX]... [--deny-method M]...", about, stderr)
	listen := fs.String("listen", "", "`ip:port` to listen on, only there (required), e.g. ${STITCH_ADDR_DATA}:8080")
	var src, paths, methods samplekit.StringList
	fs.Var(&src, "deny-src", "drop requests whose TCP peer is in this `CIDR` (or address); repeatable")
	fs.Var(&paths, "deny-path", "drop requests whose cleaned path is this `prefix` or below it (/admin: /admin, /admin/x); repeatable")
	fs.Var(&methods, "deny-method", "drop requests with this `method` (case-insensitive); repeatable")
	lvl := samplekit.LogLevelFlag(fs)
	if err := samplekit.ParseFlags(fs, args); err != nil {
		return options{}, err
	}
	if *listen == "" {
		return options{}, samplekit.Usagef(fs, "--listen is required")
	}
	rules, err := firewall.ParseRules(src, paths, methods)
	if err != nil {
		return options{}, samplekit.Usagef(fs, "%v", err)
	}
	return options{listen: *listen, rules: rules, logLevel: *lvl}, nil
}

func run(ctx context.Context, args, env []string, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	rt, err := samplekit.NewRuntime("fw", env, samplekit.NewLogger(stderr, opts.logLevel))
	if err != nil {
		return err
	}
	fw := firewall.New(rt, opts.rules)
	srv := &samplekit.Server{Runtime: rt, Handler: fw, OnShutdown: fw.Close}
	return srv.ListenAndServe(ctx, opts.listen)
}

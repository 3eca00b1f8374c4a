// Command stitch-lb is stitch's sample layer-7 load balancer VNF: it
// spreads requests over the next function of the service chain.
package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/stitchnfv/stitch/internal/samplekit"
	"github.com/stitchnfv/stitch/internal/samplekit/lb"
)

const about = `Layer-7 load balancer in a stitch service chain. Requests go to the
instances in the bindings' "next" set, chosen by --policy, with this hop
appended to X-Stitch-Trace. An instance that fails to dial is retried once
on another one and avoided for 2s; with none left the answer is 502 with a
JSON problem.`

func main() { samplekit.Main(run) }

type options struct {
	listen   string
	policy   samplekit.Policy
	logLevel slog.Level
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := samplekit.NewFlagSet("stitch-lb", "--listen ADDR [--policy round-robin|least-conn]", about, stderr)
	listen := fs.String("listen", "", "`ip:port` to listen on, only there (required), e.g. ${STITCH_ADDR_DATA}:8080")
	policy := fs.String("policy", string(samplekit.RoundRobin), "balancing `policy`: round-robin or least-conn")
	lvl := samplekit.LogLevelFlag(fs)
	if err := samplekit.ParseFlags(fs, args); err != nil {
		return options{}, err
	}
	if *listen == "" {
		return options{}, samplekit.Usagef(fs, "--listen is required")
	}
	p, err := samplekit.ParsePolicy(*policy)
	if err != nil {
		return options{}, samplekit.Usagef(fs, "--policy: %v", err)
	}
	return options{listen: *listen, policy: p, logLevel: *lvl}, nil
}

func run(ctx context.Context, args, env []string, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	rt, err := samplekit.NewRuntime("lb", env, samplekit.NewLogger(stderr, opts.logLevel))
	if err != nil {
		return err
	}
	h := lb.New(rt, opts.policy)
	srv := &samplekit.Server{Runtime: rt, Handler: h, OnShutdown: h.Close}
	return srv.ListenAndServe(ctx, opts.listen)
}

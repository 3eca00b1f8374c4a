// Command stitch-web is stitch's sample web front end microservice.
package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/stitchnfv/stitch/internal/samplekit"
	"github.com/stitchnfv/stitch/internal/samplekit/web"
)

const about = `Web front end of the stitch sample service. GET / calls a back end
instance (GET /api/visit, passing the query and X-Stitch-Trace along; on 503,
another instance) and answers {"served_by", "trace", "backend"}. A back end's
error answer, such as 503 with Retry-After when it has no free session slot,
is passed through. GET /admin exists so a firewall rule on it can be seen.`

func main() { samplekit.Main(run) }

type options struct {
	listen   string
	web      web.Options
	logLevel slog.Level
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := samplekit.NewFlagSet("stitch-web", "--listen ADDR [--backend PROFILE]", about, stderr)
	listen := fs.String("listen", "", "`ip:port` to listen on, only there (required), e.g. ${STITCH_ADDR_DATA}:8080")
	backend := fs.String("backend", "", "vnf-`profile` in the bindings' deps that serves /api/visit (default: the only profile there)")
	lvl := samplekit.LogLevelFlag(fs)
	if err := samplekit.ParseFlags(fs, args); err != nil {
		return options{}, err
	}
	if *listen == "" {
		return options{}, samplekit.Usagef(fs, "--listen is required")
	}
	return options{listen: *listen, web: web.Options{BackendProfile: *backend}, logLevel: *lvl}, nil
}

func run(ctx context.Context, args, env []string, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	rt, err := samplekit.NewRuntime("web", env, samplekit.NewLogger(stderr, opts.logLevel))
	if err != nil {
		return err
	}
	h := web.New(rt, opts.web)
	srv := &samplekit.Server{Runtime: rt, Handler: h, OnShutdown: h.Close}
	return srv.ListenAndServe(ctx, opts.listen)
}

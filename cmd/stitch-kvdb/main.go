// Command stitch-kvdb is stitch's sample key-value database microservice.
package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/stitchnfv/stitch/internal/samplekit"
	"github.com/stitchnfv/stitch/internal/samplekit/kvdb"
)

const about = `Key-value database of the stitch sample service.
  GET /kv/{key}          the value (404 when missing)
  PUT /kv/{key}          set the value to the body (at most 1 MiB)
  DELETE /kv/{key}       remove the key
  POST /kv/{key}/incr    add ?by=N (default 1) to an integer value, atomically;
                         answers {"key", "value"}
With --data every change is written to FILE (whole map, atomic rename)
before it is acknowledged, and FILE is loaded at start.`

func main() { samplekit.Main(run) }

type options struct {
	listen   string
	data     string
	logLevel slog.Level
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := samplekit.NewFlagSet("stitch-kvdb", "--listen ADDR [--data FILE]", about, stderr)
	listen := fs.String("listen", "", "`ip:port` to listen on, only there (required), e.g. ${STITCH_ADDR_DATA}:8080")
	data := fs.String("data", "", "persist to this `file` (default: memory only)")
	lvl := samplekit.LogLevelFlag(fs)
	if err := samplekit.ParseFlags(fs, args); err != nil {
		return options{}, err
	}
	if *listen == "" {
		return options{}, samplekit.Usagef(fs, "--listen is required")
	}
	return options{listen: *listen, data: *data, logLevel: *lvl}, nil
}

func run(ctx context.Context, args, env []string, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	rt, err := samplekit.NewRuntime("kvdb", env, samplekit.NewLogger(stderr, opts.logLevel))
	if err != nil {
		return err
	}
	store, err := kvdb.Open(opts.data)
	if err != nil {
		return err
	}
	rt.Logger.Info("store open", "data", opts.data, "keys", store.Len())
	srv := &samplekit.Server{Runtime: rt, Handler: kvdb.New(rt, store)}
	return srv.ListenAndServe(ctx, opts.listen)
}

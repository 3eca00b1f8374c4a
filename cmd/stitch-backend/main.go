// Command stitch-backend is stitch's sample back end microservice with
// FUSION session slots.
package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"

	"github.com/stitchnfv/stitch/internal/samplekit"
	"github.com/stitchnfv/stitch/internal/samplekit/backend"
	"github.com/stitchnfv/stitch/sdk/slots"
)

// defaultSlots applies when neither --slots nor STITCH_SLOTS says.
const defaultSlots = 20

const about = `Back end of the stitch sample service. Every GET /api/visit is a session:
it holds one session slot while it lasts (?hold=DURATION keeps it open, at
most 30s), increments the visit counter in the database (POST
/kv/visits/incr on an instance of the --db profile) and answers
{"instance", "visits", "held", "slots"}. With no free slot the answer is
503 with Retry-After: 1. GET /slots reports {"max", "available", "in_use"};
PUT /slots {"max": N} sets a new budget at run time.`

func main() { samplekit.Main(run) }

type options struct {
	listen   string
	db       string
	slots    int // -1: from the environment
	logLevel slog.Level
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := samplekit.NewFlagSet("stitch-backend", "--listen ADDR [--db PROFILE] [--slots N]", about, stderr)
	listen := fs.String("listen", "", "`ip:port` to listen on, only there (required), e.g. ${STITCH_ADDR_DATA}:8080")
	db := fs.String("db", "", "vnf-`profile` in the bindings' deps that is the database (default: the only profile there)")
	var slots optionalInt
	fs.Var(&slots, "slots", "session slots `N`, overriding $STITCH_SLOTS (default: $STITCH_SLOTS, else 20)")
	lvl := samplekit.LogLevelFlag(fs)
	if err := samplekit.ParseFlags(fs, args); err != nil {
		return options{}, err
	}
	if *listen == "" {
		return options{}, samplekit.Usagef(fs, "--listen is required")
	}
	n := -1
	if slots.set {
		n = slots.n
	}
	return options{listen: *listen, db: *db, slots: n, logLevel: *lvl}, nil
}

// optionalInt is a non-negative int flag that knows whether it was given,
// so an explicit --slots 0 (refuse every session) differs from no flag.
type optionalInt struct {
	n   int
	set bool
}

func (o *optionalInt) String() string {
	if o == nil || !o.set {
		return ""
	}
	return strconv.Itoa(o.n)
}

func (o *optionalInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return errors.New("want a non-negative integer")
	}
	o.n, o.set = n, true
	return nil
}

func run(ctx context.Context, args, env []string, stderr io.Writer) error {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	rt, err := samplekit.NewRuntime("backend", env, samplekit.NewLogger(stderr, opts.logLevel))
	if err != nil {
		return err
	}
	n := opts.slots
	if n < 0 {
		n = rt.Config.Slots
		if v, _ := samplekit.LookupEnv(env, samplekit.EnvSlots); v == "" {
			n = defaultSlots
		}
	}
	budget := slots.New(n)
	h := backend.New(rt, backend.Options{DBProfile: opts.db, Slots: budget})
	rt.Logger.Info("session slots", "max", n)
	srv := &samplekit.Server{Runtime: rt, Handler: h, Slots: budget, OnShutdown: h.Close}
	return srv.ListenAndServe(ctx, opts.listen)
}

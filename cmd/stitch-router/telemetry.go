package main

import (
	"context"
	"log/slog"
	"net/netip"
	"time"

	"github.com/stitchnfv/stitch/internal/samplekit"
	sdktelemetry "github.com/stitchnfv/stitch/sdk/telemetry"
	"github.com/stitchnfv/stitch/servicerouter"
	"github.com/stitchnfv/stitch/telemetry"
)

// telemetryTick is how often the router's view is copied into its
// telemetry tree (unchanged leaves notify nobody).
const telemetryTick = 200 * time.Millisecond

// serveTelemetry publishes the router's own state (oper-status, CPU,
// memory, interfaces) and, per service and instance, what it does (table
// entries, weight, free slots, new sessions, refusals) over gNMI on
// address:sdk/telemetry.Port until ctx ends. Under stitch the VNFM
// subscribes to it like to any instance.
func serveTelemetry(ctx context.Context, r *servicerouter.Router, address netip.Addr, env []string, log *slog.Logger) {
	profile, _ := samplekit.LookupEnv(env, samplekit.EnvVnfProfile)
	id, _ := samplekit.LookupEnv(env, samplekit.EnvInstanceID)
	if profile == "" {
		profile = "service-router"
	}
	if id == "" {
		id = address.String()
	}
	pub := sdktelemetry.NewPublisher(profile, id, log)
	go func() {
		t := time.NewTicker(telemetryTick)
		defer t.Stop()
		for {
			publishView(ctx, pub.Tree, r)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	if err := pub.Serve(ctx, sdktelemetry.Addr(address.String()), time.Second); err != nil {
		log.Warn("telemetry: gNMI target stopped", "err", err)
	}
}

// publishView copies the router's view into the tree.
func publishView(ctx context.Context, tree *telemetry.Tree, r *servicerouter.Router) {
	views, err := r.View(ctx, time.Now())
	if err != nil {
		return
	}
	for _, s := range views {
		svc := telemetry.Path{{Name: "services"}, {Name: "service", Keys: map[string]string{"name": s.Name}}}.String()
		ops := []telemetry.Op{
			telemetry.SetOp(svc+"/state/new-sessions", s.Counters.NewFlows),
			telemetry.SetOp(svc+"/state/refused", s.Counters.Refused),
			telemetry.SetOp(svc+"/state/packets", s.Counters.Packets),
		}
		for _, in := range s.Instances {
			leaf := sdktelemetry.InstancePath(s.Name, in.ID) + "/state/router/"
			ops = append(ops,
				telemetry.SetOp(leaf+"entries", int64(in.Entries)),
				telemetry.SetOp(leaf+"weight", uint64(in.Estimate.Weight)),
				telemetry.SetOp(leaf+"reported-free", int64(in.Estimate.Free)),
				telemetry.SetOp(leaf+"new-sessions", in.Counters.NewFlows),
				telemetry.SetOp(leaf+"new-sessions-per-second", in.Estimate.SendRate),
				telemetry.SetOp(leaf+"draining", in.Draining))
		}
		_ = tree.Apply(ops...)
	}
}

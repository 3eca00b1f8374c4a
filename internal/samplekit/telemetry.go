package samplekit

import (
	"context"
	"sync"
	"time"

	sdktelemetry "github.com/stitchnfv/stitch/sdk/telemetry"
)

// telemetryTick is how often the counters and slots are copied into the
// telemetry tree. Unchanged values cost a map lookup and notify nobody;
// a changed one reaches ON_CHANGE subscribers within a tick.
const telemetryTick = 20 * time.Millisecond

// systemMetricsInterval is how often CPU, memory and interfaces are read.
const systemMetricsInterval = time.Second

// startTelemetry serves the instance's telemetry over gNMI on its data
// address (sdk/telemetry.Port) when stitch runs it, until stop is called:
// stop (idempotent) publishes oper-status DOWN first and lets subscribers
// see it.
func (s *Server) startTelemetry(ctx context.Context) (stop func()) {
	rt := s.Runtime
	host, ok := rt.Config.Addr("data")
	if !ok || rt.Config.InstanceID == DefaultInstanceID {
		return func() {}
	}
	service := rt.Config.VnfProfile
	if service == "" {
		service = rt.Role
	}
	pub := sdktelemetry.NewPublisher(service, rt.Config.InstanceID, rt.Logger)
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := pub.Serve(ctx, sdktelemetry.Addr(host), systemMetricsInterval); err != nil {
			rt.Logger.Warn("telemetry: gNMI target stopped", "err", err)
		}
	})
	wg.Go(func() {
		t := time.NewTicker(telemetryTick)
		defer t.Stop()
		for {
			s.publish(pub)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	return sync.OnceFunc(func() {
		_ = pub.Set(sdktelemetry.OperStatus, sdktelemetry.DOWN)
		s.publish(pub)
		time.Sleep(2 * telemetryTick) // let ON_CHANGE subscribers see DOWN
		cancel()
		wg.Wait()
	})
}

// publish copies the counters and slots into the tree; the names are the
// fields of GET /stats, which VNFD monitoring parameters name.
func (s *Server) publish(pub *sdktelemetry.Publisher) {
	st := s.Runtime.Stats.Snapshot()
	for metric, v := range map[string]uint64{
		"requests": st.Requests, "forwarded": st.Forwarded, "dropped": st.Dropped,
		"rejected": st.Rejected, "errors": st.Errors,
	} {
		_ = pub.Set(metric, v)
	}
	if s.Slots != nil {
		sl := s.Slots.Snapshot()
		_ = pub.Set("slots.max", int64(sl.Max))
		_ = pub.Set("slots.available", int64(sl.Available))
		_ = pub.Set("slots.in-use", int64(sl.InUse))
	}
}

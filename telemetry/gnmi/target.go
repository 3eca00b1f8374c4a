package gnmi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/stitchnfv/stitch/telemetry"
)

// DefaultMinInterval is the shortest sample and heartbeat interval accepted
// unless Options.MinInterval says otherwise. Below it a handful of clients
// could keep a core busy re-walking the tree.
const DefaultMinInterval = 100 * time.Millisecond

// Options configure a Target. The zero value is usable.
type Options struct {
	// Name is the target name. Requests whose prefix names another target
	// get NotFound; requests that name none are served.
	Name string
	// Models declared in Capabilities and accepted in use_models. Nil means
	// DefaultModels().
	Models []*gpb.ModelData
	// MinInterval bounds sample_interval and heartbeat_interval from below;
	// 0 means DefaultMinInterval.
	MinInterval time.Duration
	// ServerOptions are passed to grpc.NewServer by Serve (TLS credentials,
	// keepalive, interceptors).
	ServerOptions []grpc.ServerOption
	// ShutdownGrace is how long Serve waits for in-flight RPCs after its
	// context ends before closing connections; 0 means one second.
	ShutdownGrace time.Duration
	// Logger, nil means slog.Default().
	Logger *slog.Logger
}

// DefaultModels are the models whose paths stitch services publish: the
// service/instance slot tree and the parts of OpenConfig interfaces and
// system that telemetry/sysmetrics fills in.
func DefaultModels() []*gpb.ModelData {
	return []*gpb.ModelData{
		{Name: "stitch-services", Organization: "stitchnfv", Version: "1.0.0"},
		{Name: "openconfig-interfaces", Organization: "OpenConfig working group", Version: "3.7.1"},
		{Name: "openconfig-system", Organization: "OpenConfig working group", Version: "2.3.0"},
	}
}

// Stats are cumulative counters of a Target.
type Stats struct {
	ActiveStreams   int64  // Subscribe RPCs in progress
	Notifications   uint64 // notifications sent by Subscribe
	Coalesced       uint64 // ON_CHANGE updates replaced by a newer value before a slow client took them
	SkippedSamples  uint64 // SAMPLE ticks skipped because the client had not taken the previous one
	RejectedStreams uint64 // Subscribe RPCs ended with a client error status
}

// Target is a gNMI server over a telemetry.Tree.
type Target struct {
	gpb.UnimplementedGNMIServer

	tree    *telemetry.Tree
	opts    Options
	log     *slog.Logger
	version string

	quit     chan struct{} // closed when Serve shuts down, ends streams
	quitOnce sync.Once

	active         atomic.Int64
	notifications  atomic.Uint64
	coalesced      atomic.Uint64
	skippedSamples atomic.Uint64
	rejected       atomic.Uint64
}

// NewTarget returns a target serving tree.
func NewTarget(tree *telemetry.Tree, opts Options) *Target {
	if opts.Models == nil {
		opts.Models = DefaultModels()
	}
	if opts.MinInterval <= 0 {
		opts.MinInterval = DefaultMinInterval
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	// The gNMI version is the one of the compiled proto, so it cannot drift
	// from what the server actually speaks.
	version, _ := proto.GetExtension(gpb.File_github_com_openconfig_gnmi_proto_gnmi_gnmi_proto.Options(), gpb.E_GnmiService).(string)
	return &Target{
		tree:    tree,
		opts:    opts,
		log:     log.With("component", "gnmi-target"),
		version: version,
		quit:    make(chan struct{}),
	}
}

// Register adds the gNMI service to an existing gRPC server, for services
// that already run one.
func (t *Target) Register(s *grpc.Server) { gpb.RegisterGNMIServer(s, t) }

// Serve serves gNMI on lis until ctx ends, then ends open subscriptions and
// stops. It returns nil after a shutdown caused by ctx. Call it once.
func (t *Target) Serve(ctx context.Context, lis net.Listener) error {
	s := grpc.NewServer(t.opts.ServerOptions...)
	t.Register(s)
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(lis) }()
	t.log.Info("gNMI target serving", "addr", lis.Addr().String(), "name", t.opts.Name)

	select {
	case err := <-errc:
		t.quitOnce.Do(func() { close(t.quit) })
		return fmt.Errorf("gnmi: serve %s: %w", lis.Addr(), err)
	case <-ctx.Done():
	}
	// Subscriptions never end by themselves, so tell them to, then give
	// unary RPCs the grace period.
	t.quitOnce.Do(func() { close(t.quit) })
	done := make(chan struct{})
	go func() { s.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(t.opts.ShutdownGrace):
		s.Stop()
		<-done
	}
	if err := <-errc; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("gnmi: serve %s: %w", lis.Addr(), err)
	}
	return nil
}

// ListenAndServe listens on addr (for example ":9339", the IANA port for
// gNMI) and serves until ctx ends.
func (t *Target) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	lis, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("gnmi: listen %s: %w", addr, err)
	}
	return t.Serve(ctx, lis)
}

// Stats returns the counters.
func (t *Target) Stats() Stats {
	return Stats{
		ActiveStreams:   t.active.Load(),
		Notifications:   t.notifications.Load(),
		Coalesced:       t.coalesced.Load(),
		SkippedSamples:  t.skippedSamples.Load(),
		RejectedStreams: t.rejected.Load(),
	}
}

// Capabilities implements gnmi.GNMIServer.
func (t *Target) Capabilities(context.Context, *gpb.CapabilityRequest) (*gpb.CapabilityResponse, error) {
	return &gpb.CapabilityResponse{
		SupportedModels:    t.opts.Models,
		SupportedEncodings: []gpb.Encoding{gpb.Encoding_JSON, gpb.Encoding_JSON_IETF, gpb.Encoding_PROTO},
		GNMIVersion:        t.version,
	}, nil
}

// Set implements gnmi.GNMIServer: the tree is state owned by the service.
func (t *Target) Set(context.Context, *gpb.SetRequest) (*gpb.SetResponse, error) {
	return nil, status.Error(codes.Unimplemented, "Set is not supported: this target only publishes operational state")
}

// checkTarget and checkModels validate the request-wide fields shared by Get
// and Subscribe.
func (t *Target) checkTarget(prefix *gpb.Path) error {
	if name := prefix.GetTarget(); name != "" && t.opts.Name != "" && name != t.opts.Name {
		return status.Errorf(codes.NotFound, "target %q is not served here (this is %q)", name, t.opts.Name)
	}
	return nil
}

func (t *Target) checkModels(models []*gpb.ModelData) error {
	for _, m := range models {
		found := false
		for _, have := range t.opts.Models {
			if m.GetName() == have.GetName() && (m.GetVersion() == "" || m.GetVersion() == have.GetVersion()) {
				found = true
				break
			}
		}
		if !found {
			return status.Errorf(codes.InvalidArgument, "model %s %s is not supported", m.GetName(), m.GetVersion())
		}
	}
	return nil
}

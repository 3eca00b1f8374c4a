package gnmi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/stitchnfv/stitch/telemetry"
)

// sub is one validated entry of a SubscriptionList.
type sub struct {
	path      telemetry.Path
	onChange  bool
	interval  time.Duration // SAMPLE only
	heartbeat time.Duration
	suppress  bool // SAMPLE only
}

// request is a validated SubscriptionList.
type request struct {
	mode        gpb.SubscriptionList_Mode
	prefix      *gpb.Path // for responses
	subs        []sub
	updatesOnly bool
}

func (r *request) patterns() []telemetry.Path {
	out := make([]telemetry.Path, len(r.subs))
	for i, s := range r.subs {
		out[i] = s.path
	}
	return out
}

// Subscribe implements gnmi.GNMIServer.
func (t *Target) Subscribe(stream gpb.GNMI_SubscribeServer) error {
	t.active.Add(1)
	defer t.active.Add(-1)
	ctx := stream.Context()
	log := t.log
	if p, ok := peer.FromContext(ctx); ok {
		log = log.With("peer", p.Addr.String())
	}

	err := t.subscribe(ctx, stream)
	switch status.Code(err) {
	case codes.OK, codes.Canceled, codes.Unavailable, codes.DeadlineExceeded:
		log.Debug("subscription ended", "err", err)
	default:
		t.rejected.Add(1)
		log.Info("subscription rejected", "err", err)
	}
	return err
}

func (t *Target) subscribe(ctx context.Context, stream gpb.GNMI_SubscribeServer) error {
	first, err := stream.Recv()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return status.Error(codes.InvalidArgument, "stream closed before a SubscriptionList")
		}
		return err
	}
	req, err := t.validate(first)
	if err != nil {
		return err
	}
	switch req.mode {
	case gpb.SubscriptionList_ONCE:
		return t.once(stream, req)
	case gpb.SubscriptionList_POLL:
		return t.poll(ctx, stream, req)
	default:
		return t.stream(ctx, stream, req)
	}
}

func (t *Target) validate(m *gpb.SubscribeRequest) (*request, error) {
	if len(m.GetExtension()) > 0 {
		return nil, status.Error(codes.Unimplemented, "gNMI extensions are not supported")
	}
	list := m.GetSubscribe()
	if list == nil {
		return nil, status.Errorf(codes.InvalidArgument, "the first SubscribeRequest must carry a SubscriptionList, got %T", m.GetRequest())
	}
	if len(list.GetSubscription()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "the SubscriptionList has no subscription")
	}
	if err := t.checkTarget(list.GetPrefix()); err != nil {
		return nil, err
	}
	if err := t.checkModels(list.GetUseModels()); err != nil {
		return nil, err
	}
	if err := checkEncoding(list.GetEncoding()); err != nil {
		return nil, err
	}
	req := &request{mode: list.GetMode(), prefix: responsePrefix(list.GetPrefix()), updatesOnly: list.GetUpdatesOnly()}
	switch req.mode {
	case gpb.SubscriptionList_STREAM, gpb.SubscriptionList_ONCE, gpb.SubscriptionList_POLL:
	default:
		return nil, status.Errorf(codes.InvalidArgument, "unknown subscription list mode %d", req.mode)
	}
	for i, s := range list.GetSubscription() {
		p, err := fullPath(list.GetPrefix(), s.GetPath())
		if err != nil {
			return nil, err
		}
		r := sub{path: p}
		if req.mode == gpb.SubscriptionList_STREAM {
			if r, err = t.streamSub(r, s); err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "subscription %d (%s): %v", i, p, err)
			}
		}
		req.subs = append(req.subs, r)
	}
	return req, nil
}

// streamSub reads the per-subscription mode and intervals of STREAM mode.
func (t *Target) streamSub(r sub, s *gpb.Subscription) (sub, error) {
	min := t.opts.MinInterval
	r.heartbeat = time.Duration(s.GetHeartbeatInterval())
	if r.heartbeat != 0 && r.heartbeat < min {
		return r, fmt.Errorf("heartbeat_interval %v is below the minimum %v", r.heartbeat, min)
	}
	switch s.GetMode() {
	case gpb.SubscriptionMode_ON_CHANGE, gpb.SubscriptionMode_TARGET_DEFINED:
		r.onChange = true
	case gpb.SubscriptionMode_SAMPLE:
		r.interval = time.Duration(s.GetSampleInterval())
		switch {
		case r.interval == 0:
			r.interval = min // the specification: 0 is the lowest interval the target supports
		case r.interval < min:
			return r, fmt.Errorf("sample_interval %v is below the minimum %v", r.interval, min)
		}
		r.suppress = s.GetSuppressRedundant()
	default:
		return r, fmt.Errorf("unknown subscription mode %d", s.GetMode())
	}
	return r, nil
}

// send sends one response, counting notifications.
func (t *Target) send(stream gpb.GNMI_SubscribeServer, ns []*gpb.Notification) error {
	for _, n := range ns {
		if err := stream.Send(&gpb.SubscribeResponse{Response: &gpb.SubscribeResponse_Update{Update: n}}); err != nil {
			return err
		}
		t.notifications.Add(1)
	}
	return nil
}

func syncResponse(stream gpb.GNMI_SubscribeServer) error {
	return stream.Send(&gpb.SubscribeResponse{Response: &gpb.SubscribeResponse_SyncResponse{SyncResponse: true}})
}

// snapshot sends every leaf the request selects.
func (t *Target) snapshot(stream gpb.GNMI_SubscribeServer, req *request, leaves []telemetry.Leaf) error {
	b := batcher{prefix: req.prefix}
	for _, l := range leaves {
		b.update(l, scalar(l.Value), 0)
	}
	return t.send(stream, b.out)
}

// once answers ONCE: the current values, sync_response, end of RPC.
func (t *Target) once(stream gpb.GNMI_SubscribeServer, req *request) error {
	leaves := t.tree.Get(req.patterns()...)
	if len(leaves) == 0 {
		for _, p := range req.patterns() {
			if !p.HasWildcards() {
				return status.Errorf(codes.NotFound, "no data at %s", p)
			}
		}
	}
	if !req.updatesOnly {
		if err := t.snapshot(stream, req, leaves); err != nil {
			return err
		}
	}
	return syncResponse(stream)
}

// poll answers POLL: a snapshot and sync_response now and after every Poll
// message, until the client closes its side or the target shuts down.
func (t *Target) poll(ctx context.Context, stream gpb.GNMI_SubscribeServer, req *request) error {
	patterns := req.patterns()
	if !req.updatesOnly {
		if err := t.snapshot(stream, req, t.tree.Get(patterns...)); err != nil {
			return err
		}
	}
	if err := syncResponse(stream); err != nil {
		return err
	}
	// Recv blocks, so it runs aside to keep shutdown prompt.
	msgs := make(chan *gpb.SubscribeRequest)
	recvErr := make(chan error, 1)
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				recvErr <- err
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-t.quit:
			return status.Error(codes.Unavailable, "target shutting down")
		case err := <-recvErr:
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		case m := <-msgs:
			if m.GetPoll() == nil {
				return status.Errorf(codes.InvalidArgument, "a POLL subscription accepts only Poll messages, got %T", m.GetRequest())
			}
			if err := t.snapshot(stream, req, t.tree.Get(patterns...)); err != nil {
				return err
			}
			if err := syncResponse(stream); err != nil {
				return err
			}
		}
	}
}

package gnmi

import (
	"context"
	"errors"
	"io"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stitchnfv/stitch/telemetry"
)

// sent remembers what a SAMPLE subscription last sent of a leaf.
type sent struct {
	version uint64
	at      time.Time
}

// streamState is the running state of one STREAM subscription.
type streamState struct {
	sub
	next time.Time       // next sample or heartbeat due; zero: none
	sent map[string]sent // SAMPLE: last sent per leaf, to suppress and to detect deletes
}

// stream serves STREAM mode. One goroutine owns all sends of the RPC; while
// a send is blocked by a slow client, ON_CHANGE changes wait coalesced in
// the Watch and SAMPLE ticks are skipped, so neither writers nor other
// clients ever wait for this one.
func (t *Target) stream(ctx context.Context, stream gpb.GNMI_SubscribeServer, req *request) error {
	var onChange []telemetry.Path
	states := make([]*streamState, len(req.subs))
	for i, s := range req.subs {
		states[i] = &streamState{sub: s}
		if s.onChange {
			onChange = append(onChange, s.path)
		} else {
			states[i].sent = make(map[string]sent)
		}
	}

	// Register the watch and take the initial values in one step so that
	// no change falls between them.
	var (
		w       *telemetry.Watch
		initial []telemetry.Leaf
		ready   <-chan struct{}
	)
	if len(onChange) > 0 {
		w, initial = t.tree.Watch(onChange...)
		defer w.Close()
		ready = w.Ready()
	}
	now := time.Now()
	b := batcher{prefix: req.prefix}
	for _, l := range initial {
		b.update(l, scalar(l.Value), 0)
	}
	for _, st := range states {
		if st.onChange {
			if st.heartbeat > 0 {
				st.next = now.Add(st.heartbeat)
			}
			continue
		}
		t.sample(st, &b, now, true)
		st.next = now.Add(st.interval)
	}
	if !req.updatesOnly {
		if err := t.send(stream, b.out); err != nil {
			return err
		}
	}
	if err := syncResponse(stream); err != nil {
		return err
	}

	// After the SubscriptionList a STREAM client has nothing more to say;
	// anything else is a protocol error that ends this RPC only.
	recvErr := make(chan error, 1)
	go func() {
		m, err := stream.Recv()
		switch {
		case errors.Is(err, io.EOF):
			return // half-close: keep streaming until the client cancels
		case err != nil:
			recvErr <- err
		case m.GetPoll() != nil:
			recvErr <- status.Error(codes.InvalidArgument, "Poll on a STREAM subscription")
		default:
			recvErr <- status.Errorf(codes.InvalidArgument, "the subscription is already established; got another %T", m.GetRequest())
		}
	}()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		resetTimer(timer, states)
		select {
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		case <-t.quit:
			return status.Error(codes.Unavailable, "target shutting down")
		case err := <-recvErr:
			return err
		case <-ready:
			if err := t.sendChanges(stream, req, w.Drain()); err != nil {
				return err
			}
		case <-timer.C:
			if err := t.tick(stream, req, states, time.Now()); err != nil {
				return err
			}
		}
	}
}

// resetTimer arms timer for the earliest due subscription, or effectively
// never if only heartbeat-less ON_CHANGE subscriptions exist.
func resetTimer(timer *time.Timer, states []*streamState) {
	var next time.Time
	for _, st := range states {
		if !st.next.IsZero() && (next.IsZero() || st.next.Before(next)) {
			next = st.next
		}
	}
	d := time.Hour
	if !next.IsZero() {
		d = max(time.Until(next), 0)
	}
	timer.Reset(d)
}

func (t *Target) sendChanges(stream gpb.GNMI_SubscribeServer, req *request, changes []telemetry.Change) error {
	b := batcher{prefix: req.prefix}
	for _, c := range changes {
		t.coalesced.Add(uint64(c.Coalesced))
		if c.Deleted {
			b.delete(c.Leaf)
			continue
		}
		b.update(c.Leaf, scalar(c.Leaf.Value), c.Coalesced)
	}
	return t.send(stream, b.out)
}

// tick runs every subscription that is due: samples and heartbeats.
func (t *Target) tick(stream gpb.GNMI_SubscribeServer, req *request, states []*streamState, now time.Time) error {
	b := batcher{prefix: req.prefix}
	for _, st := range states {
		if st.next.IsZero() || now.Before(st.next) {
			continue
		}
		period := st.interval
		if st.onChange {
			// Heartbeat: the specification asks ON_CHANGE to resend the
			// current values once per heartbeat_interval, changed or not.
			period = st.heartbeat
			for _, l := range t.tree.Get(st.path) {
				b.update(l, scalar(l.Value), 0)
			}
		} else {
			t.sample(st, &b, now, false)
		}
		// Ticks missed while a send blocked are skipped, not replayed: the
		// client gets the current values once, not a burst of stale ones.
		missed := now.Sub(st.next) / period
		t.skippedSamples.Add(uint64(missed))
		st.next = st.next.Add((missed + 1) * period)
	}
	return t.send(stream, b.out)
}

// sample adds one SAMPLE of st to b. With suppress_redundant only leaves
// that changed since they were last sent go out, plus those whose heartbeat
// is due; leaves that disappeared are sent as deletes either way.
func (t *Target) sample(st *streamState, b *batcher, now time.Time, initial bool) {
	leaves := t.tree.Get(st.path)
	seen := make(map[string]struct{}, len(leaves))
	for _, l := range leaves {
		seen[l.Key] = struct{}{}
		last, ok := st.sent[l.Key]
		if st.suppress && !initial && ok && last.version == l.Version &&
			(st.heartbeat == 0 || now.Sub(last.at) < st.heartbeat) {
			continue
		}
		st.sent[l.Key] = sent{version: l.Version, at: now}
		b.update(l, scalar(l.Value), 0)
	}
	for key := range st.sent {
		if _, ok := seen[key]; ok {
			continue
		}
		delete(st.sent, key)
		if p, err := telemetry.ParsePath(key); err == nil {
			b.delete(telemetry.Leaf{Path: p, Key: key, Timestamp: now})
		}
	}
}

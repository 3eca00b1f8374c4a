package nfvo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/stitchnfv/stitch/internal/store"
)

// CreateSubscription registers a webhook for LCM operation notifications.
func (o *Orchestrator) CreateSubscription(ctx context.Context, s Subscription) (Subscription, error) {
	u, err := url.Parse(s.CallbackURI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Subscription{}, fmt.Errorf("%w: callbackUri must be an absolute http(s) URL", ErrInvalid)
	}
	s.ID = uuid.NewString()
	s.CreatedAt = o.now()
	err = o.store.Update(ctx, func(tx store.Tx) error {
		for _, id := range s.NsInstanceIDs {
			if _, err := getNS(tx, id); err != nil {
				return fmt.Errorf("%w: nsInstanceIds: %w", ErrInvalid, err)
			}
		}
		return store.PutJSON(tx, bucketSub, s.ID, s)
	})
	return s, err
}

func (o *Orchestrator) ListSubscriptions(ctx context.Context) (out []Subscription, err error) {
	err = o.store.View(ctx, func(tx store.Tx) error {
		out, err = store.ListJSON[Subscription](tx, bucketSub, "")
		return err
	})
	return out, err
}

func (o *Orchestrator) DeleteSubscription(ctx context.Context, id string) error {
	return o.store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Get(bucketSub, id); err != nil {
			return fmt.Errorf("subscription %q: %w", id, ErrNotFound)
		}
		return tx.Delete(bucketSub, id)
	})
}

// notifier posts operation state changes to subscribers in the background,
// in order per subscription, with a few retries; a slow subscriber never
// blocks an operation or another subscriber.
type notifier struct {
	o      *Orchestrator
	mu     sync.Mutex
	queues map[string][]Notification // per subscription; a key means a sender runs
	wg     sync.WaitGroup
}

func newNotifier(o *Orchestrator) *notifier {
	return &notifier{o: o, queues: map[string][]Notification{}}
}

func (n *notifier) opChanged(op LcmOpOcc) {
	subs, err := n.o.ListSubscriptions(n.o.baseCtx)
	if err != nil || len(subs) == 0 {
		return
	}
	for _, s := range subs {
		if len(s.NsInstanceIDs) > 0 && !slices.Contains(s.NsInstanceIDs, op.NsInstanceID) {
			continue
		}
		n.enqueue(s, Notification{
			ID: uuid.NewString(), NotificationType: "NsLcmOperationOccurrenceNotification",
			SubscriptionID: s.ID, Timestamp: n.o.now(), NsInstanceID: op.NsInstanceID,
			NsLcmOpOccID: op.ID, OperationType: op.LcmOperationType,
			OperationState: op.OperationState, Error: op.Error,
		})
	}
}

func (n *notifier) enqueue(s Subscription, msg Notification) {
	n.mu.Lock()
	defer n.mu.Unlock()
	q, sending := n.queues[s.ID]
	n.queues[s.ID] = append(q, msg)
	if !sending {
		n.wg.Go(func() { n.send(s) })
	}
}

// send delivers a subscription's queue until it is empty.
func (n *notifier) send(s Subscription) {
	for {
		n.mu.Lock()
		q := n.queues[s.ID]
		if len(q) == 0 {
			delete(n.queues, s.ID)
			n.mu.Unlock()
			return
		}
		msg := q[0]
		n.queues[s.ID] = q[1:]
		n.mu.Unlock()
		n.deliver(s.CallbackURI, msg)
	}
}

func (n *notifier) deliver(uri string, msg Notification) {
	body, _ := json.Marshal(msg)
	backoff := 200 * time.Millisecond
	for attempt := 1; attempt <= 3; attempt++ {
		req, err := http.NewRequestWithContext(n.o.baseCtx, http.MethodPost, uri, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := n.o.cfg.HTTPClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 300 {
				return
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		n.o.log.Warn("notification failed", "uri", uri, "attempt", attempt, "err", err)
		select {
		case <-n.o.baseCtx.Done():
			return
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

func (n *notifier) wait() { n.wg.Wait() }

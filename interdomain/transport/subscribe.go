package transport

import (
	"context"
	"sync"
	"time"

	"github.com/stitchnfv/stitch/interdomain/rib"
)

// Subscribe returns a channel of Loc-RIB changes (best path per service),
// for the service router. It starts with the current Loc-RIB, as changes
// from nothing. Changes the reader has not taken yet are coalesced per
// service (Old from the first, New from the last), so a slow reader never
// stalls the protocol and its queue is bounded by the number of services,
// yet the last change it reads for a service is always the current best.
// The channel is closed when ctx is done or the node closes.
func (n *Node) Subscribe(ctx context.Context) (<-chan rib.Change, error) {
	s := &subscriber{pending: map[string]*rib.Change{}, wake: make(chan struct{}, 1), out: make(chan rib.Change)}
	err := n.do(ctx, func(time.Time) {
		n.subs[s] = struct{}{}
		for _, b := range n.sp.RIB().LocRIB() {
			nb := cloneBest(b)
			s.push(rib.Change{Service: b.Route.Service, New: &nb})
		}
	})
	if err != nil {
		return nil, err
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		s.run(ctx, n.stop)
		n.post(func(time.Time) { delete(n.subs, s) })
	}()
	return s.out, nil
}

type subscriber struct {
	mu      sync.Mutex
	pending map[string]*rib.Change
	order   []string
	wake    chan struct{}
	out     chan rib.Change
}

// push queues c; it never blocks.
func (s *subscriber) push(c rib.Change) {
	s.mu.Lock()
	if p := s.pending[c.Service]; p != nil {
		p.New = c.New
	} else {
		s.pending[c.Service] = &c
		s.order = append(s.order, c.Service)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// take returns the pending changes in arrival order.
func (s *subscriber) take() []rib.Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]rib.Change, 0, len(s.order))
	for _, svc := range s.order {
		if c := s.pending[svc]; c.Old != nil || c.New != nil {
			out = append(out, *c)
		}
	}
	clear(s.pending)
	s.order = s.order[:0]
	return out
}

func (s *subscriber) run(ctx context.Context, stop <-chan struct{}) {
	defer close(s.out)
	for {
		select {
		case <-s.wake:
		case <-ctx.Done():
			return
		case <-stop:
			return
		}
		for _, c := range s.take() {
			select {
			case s.out <- c:
			case <-ctx.Done():
				return
			case <-stop:
				return
			}
		}
	}
}

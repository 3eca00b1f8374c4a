package nfvo

import (
	"context"
	"sync"
)

// runner runs the reconcile of each NS instance on its own goroutine, never
// two at once for one instance; a kick while one runs makes it run again.
type runner struct {
	ctx    context.Context
	fn     func(ctx context.Context, nsID string)
	mu     sync.Mutex
	active map[string]context.CancelFunc
	again  map[string]bool
	wg     sync.WaitGroup
}

func newRunner(ctx context.Context, fn func(context.Context, string)) *runner {
	return &runner{ctx: ctx, fn: fn, active: map[string]context.CancelFunc{}, again: map[string]bool{}}
}

func (r *runner) kick(nsID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx.Err() != nil {
		return
	}
	if _, ok := r.active[nsID]; ok {
		r.again[nsID] = true
		return
	}
	r.start(nsID)
}

// start must hold mu.
func (r *runner) start(nsID string) {
	ctx, cancel := context.WithCancel(r.ctx)
	r.active[nsID] = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			r.fn(ctx, nsID)
			cancel()
			r.mu.Lock()
			if r.again[nsID] && r.ctx.Err() == nil {
				delete(r.again, nsID)
				ctx, cancel = context.WithCancel(r.ctx)
				r.active[nsID] = cancel
				r.mu.Unlock()
				continue
			}
			delete(r.active, nsID)
			r.mu.Unlock()
			return
		}
	}()
}

// interrupt cancels the running reconcile of nsID (forced terminate) and
// runs it again.
func (r *runner) interrupt(nsID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx.Err() != nil {
		return
	}
	if cancel, ok := r.active[nsID]; ok {
		cancel()
		r.again[nsID] = true
		return
	}
	r.start(nsID)
}

func (r *runner) wait() { r.wg.Wait() }

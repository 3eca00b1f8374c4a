package wanem

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultQueueLen is the per-direction queue bound when Config.QueueLen is
// 0: 1000 frames, the txqueuelen of an Ethernet device and netem's limit.
const DefaultQueueLen = 1000

// Config describes a relay between two interfaces.
type Config struct {
	// NetNS is the named network namespace (/run/netns) holding both
	// interfaces; "" is the caller's.
	NetNS string
	// IfaceA and IfaceB are the two link ends, normally veth ends.
	IfaceA, IfaceB string
	// AtoB applies to frames received on IfaceA and sent out of IfaceB,
	// BtoA to the reverse.
	AtoB, BtoA Impairment
	// QueueLen bounds the frames waiting to depart, per direction; a frame
	// arriving at a full queue is dropped and counted. 0 is
	// DefaultQueueLen.
	QueueLen int
	// Seed makes loss and jitter repeatable; 0 picks a random seed.
	Seed uint64
	// Logger; nil is slog.Default().
	Logger *slog.Logger
}

// Counters are one direction's totals since Start.
type Counters struct {
	Forwarded  uint64 // frames written to the far interface
	LossDrops  uint64 // frames dropped by the Loss probability
	QueueDrops uint64 // frames dropped because the queue was full
	Errors     uint64 // frames too large to read or that could not be written
}

// Relay forwards frames between two interfaces, impaired. Stop it with
// Close (or by cancelling Start's context).
type Relay struct {
	log    *slog.Logger
	cancel context.CancelFunc
	a, b   *packetConn
	ab, ba *direction
	wg     sync.WaitGroup
	// stopOnce guards Close, closeOnce the sockets; err is set once
	// under closeOnce and read after it.
	stopOnce, closeOnce sync.Once
	err                 error
}

// pending is a frame waiting for its departure time.
type pending struct {
	frame     []byte
	departure time.Time
}

type direction struct {
	name       string
	src, dst   *packetConn
	sched      *Scheduler // owned by the reader goroutine
	queue      chan pending
	forwarded  atomic.Uint64
	lossDrops  atomic.Uint64
	queueDrops atomic.Uint64
	errors     atomic.Uint64
}

func (d *direction) counters() Counters {
	return Counters{
		Forwarded:  d.forwarded.Load(),
		LossDrops:  d.lossDrops.Load(),
		QueueDrops: d.queueDrops.Load(),
		Errors:     d.errors.Load(),
	}
}

// Start opens both interfaces and relays until ctx ends or Close is called.
func Start(ctx context.Context, cfg Config) (*Relay, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("netns", cfg.NetNS, "a", cfg.IfaceA, "b", cfg.IfaceB)
	qlen := cfg.QueueLen
	if qlen == 0 {
		qlen = DefaultQueueLen
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}

	a, err := openPacket(cfg.NetNS, cfg.IfaceA)
	if err != nil {
		return nil, fmt.Errorf("wanem: %w", err)
	}
	b, err := openPacket(cfg.NetNS, cfg.IfaceB)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("wanem: %w", err)
	}
	// Errors are impossible here: cfg.validate checked both impairments.
	// Each direction gets its own stream so one's traffic does not shift
	// the other's random draws.
	sab, _ := NewScheduler(cfg.AtoB, rand.New(rand.NewPCG(seed, 1)))
	sba, _ := NewScheduler(cfg.BtoA, rand.New(rand.NewPCG(seed, 2)))

	ctx, cancel := context.WithCancel(ctx)
	r := &Relay{
		log:    log,
		cancel: cancel,
		a:      a,
		b:      b,
		ab:     &direction{name: "a->b", src: a, dst: b, sched: sab, queue: make(chan pending, qlen)},
		ba:     &direction{name: "b->a", src: b, dst: a, sched: sba, queue: make(chan pending, qlen)},
	}
	for _, d := range []*direction{r.ab, r.ba} {
		r.wg.Add(2)
		go func() { defer r.wg.Done(); r.receive(ctx, d) }()
		go func() { defer r.wg.Done(); r.send(ctx, d) }()
	}
	// Cancelling ctx must also unblock the readers, which wait in the
	// poller, not on ctx: closing the sockets does that.
	go func() {
		<-ctx.Done()
		r.closeSockets()
	}()
	log.Info("wanem relay started", "a_to_b", cfg.AtoB, "b_to_a", cfg.BtoA, "queue", qlen, "seed", seed)
	return r, nil
}

func (c Config) validate() error {
	var errs []error
	if c.IfaceA == "" || c.IfaceB == "" {
		errs = append(errs, errors.New("both interfaces are needed"))
	} else if c.IfaceA == c.IfaceB {
		errs = append(errs, fmt.Errorf("interface %q on both ends", c.IfaceA))
	}
	if c.QueueLen < 0 {
		errs = append(errs, fmt.Errorf("queue length %d below 0", c.QueueLen))
	}
	if err := c.AtoB.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("a->b: %w", err))
	}
	if err := c.BtoA.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("b->a: %w", err))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w config: %w", ErrInvalid, errors.Join(errs...))
}

// receive reads frames, schedules them and queues them for send. It closes
// the queue when the socket is closed.
func (r *Relay) receive(ctx context.Context, d *direction) {
	defer close(d.queue)
	buf := make([]byte, maxFrame)
	for {
		n, err := d.src.read(buf)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Error("wanem read failed, direction stopped", "dir", d.name, "err", err)
			}
			return
		}
		if n > len(buf) {
			d.errors.Add(1)
			r.log.Debug("wanem frame too large, dropped", "dir", d.name, "size", n)
			continue
		}
		now := time.Now()
		// Only this goroutine sends on the queue, so a free slot now is
		// still free below. Checking before scheduling keeps a dropped
		// frame from occupying link time.
		if len(d.queue) == cap(d.queue) {
			d.queueDrops.Add(1)
			continue
		}
		dep, ok := d.sched.Schedule(max(n-vnetHdrLen, 0), now)
		if !ok {
			d.lossDrops.Add(1)
			continue
		}
		d.queue <- pending{frame: append([]byte(nil), buf[:n]...), departure: dep}
	}
}

// send writes each queued frame at its departure time. Departures are
// non-decreasing (the scheduler never reorders), so FIFO order is right.
func (r *Relay) send(ctx context.Context, d *direction) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for p := range d.queue {
		if wait := time.Until(p.departure); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		if err := d.dst.write(p.frame); err != nil {
			if ctx.Err() != nil {
				return
			}
			// One bad frame (too big for the far MTU, say) must not stop
			// the link.
			d.errors.Add(1)
			r.log.Debug("wanem write failed", "dir", d.name, "err", err)
			continue
		}
		d.forwarded.Add(1)
	}
}

// Stats returns the counters of each direction.
func (r *Relay) Stats() (aToB, bToA Counters) {
	return r.ab.counters(), r.ba.counters()
}

// Close stops the relay, drops frames still queued, closes both sockets
// (which also ends their promiscuous membership) and waits for its
// goroutines. It is safe to call more than once.
func (r *Relay) Close() error {
	r.stopOnce.Do(func() {
		r.cancel()
		r.closeSockets()
		r.wg.Wait()
		ab, ba := r.Stats()
		r.log.Info("wanem relay stopped", "a_to_b", ab, "b_to_a", ba)
	})
	return r.err
}

// closeSockets runs from Close or when Start's context ends, whichever is
// first: closing is what wakes the readers blocked in the poller.
func (r *Relay) closeSockets() {
	r.closeOnce.Do(func() {
		if err := errors.Join(r.a.Close(), r.b.Close()); err != nil {
			r.err = fmt.Errorf("wanem: close: %w", err)
		}
	})
}

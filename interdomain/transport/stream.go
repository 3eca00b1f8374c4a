package transport

import (
	"bufio"
	"errors"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"

	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

// closeGrace is how long a stream we closed waits for the peer to close its
// side before it is reset.
const closeGrace = 2 * time.Second

// conn is a neighbour's stream: a reader goroutine that feeds the owner, and
// a writer goroutine that drains a queue filled by the owner.
type conn struct {
	n       *Node
	domain  string
	s       network.Stream
	dialled bool // we opened it
	since   time.Time

	mu      sync.Mutex
	queue   []wire.Message
	closing bool // close once the queue is written
	wake    chan struct{}

	done     chan struct{} // closed when the stream is finished
	doneOnce sync.Once
}

func newConn(n *Node, domain string, s network.Stream, dialled bool) *conn {
	return &conn{n: n, domain: domain, s: s, dialled: dialled, since: time.Now(),
		wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// start runs the reader and the writer.
func (c *conn) start() {
	c.n.wg.Add(2)
	go c.read()
	go c.write()
}

// send queues m; it never blocks.
func (c *conn) send(m wire.Message) {
	c.mu.Lock()
	if !c.closing {
		c.queue = append(c.queue, m)
	}
	c.mu.Unlock()
	c.poke()
}

// closeAfter closes the stream once the queued messages are written.
func (c *conn) closeAfter() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.poke()
}

func (c *conn) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// kill resets the stream at once.
func (c *conn) kill() {
	_ = c.s.Reset()
	c.finish()
}

func (c *conn) finish() { c.doneOnce.Do(func() { close(c.done) }) }

func (c *conn) write() {
	defer c.n.wg.Done()
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		c.mu.Lock()
		batch, closing := c.queue, c.closing
		c.queue = nil
		c.mu.Unlock()
		for _, m := range batch {
			_ = c.s.SetWriteDeadline(time.Now().Add(c.n.cfg.WriteTimeout))
			if err := wire.WriteFrame(c.s, m); err != nil {
				c.kill()
				c.n.post(func(now time.Time) { c.n.streamDown(now, c, err) })
				return
			}
			c.n.sent[m.Type()].Add(1)
		}
		if closing {
			// Half-close: the peer reads everything we wrote (the
			// NOTIFICATION that usually comes last), then closes its side,
			// which ends our reader. A peer that does not is reset after
			// closeGrace.
			_ = c.s.CloseWrite()
			_ = c.s.SetReadDeadline(time.Now().Add(closeGrace))
			return
		}
	}
}

// ioErrReader remembers the stream's own read errors, to tell a broken
// stream from a frame that does not decode.
type ioErrReader struct {
	r   io.Reader
	err error
}

func (r *ioErrReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil {
		r.err = err
	}
	return n, err
}

func (c *conn) read() {
	defer c.n.wg.Done()
	src := &ioErrReader{r: c.s}
	br := bufio.NewReaderSize(src, 64<<10)
	for {
		m, err := wire.ReadFrame(br, wire.MaxMessageSize)
		var ev func(now time.Time)
		switch {
		case err == nil:
			c.n.received[m.Type()].Add(1)
			var verdicts []rib.Verdict
			if u, ok := m.(wire.Update); ok && len(u.Announce) > 0 {
				verdicts = c.n.precheck(c.domain, u.Announce)
			}
			ev = func(now time.Time) { c.n.deliver(now, c, m, verdicts) }
		case src.err != nil || errors.Is(err, io.EOF):
			// The stream ended or broke, cleanly or mid-frame.
			cause := src.err
			if cause == nil {
				cause = err
			}
			ev = func(now time.Time) { c.n.streamDown(now, c, cause) }
		default:
			// The bytes arrived but do not decode: the peer is told why.
			ev = func(now time.Time) { c.n.receiveError(now, c, err) }
		}
		if !c.n.post(ev) {
			c.kill()
			return
		}
		if err != nil {
			return
		}
	}
}

// verifyChunk is how many routes one verifying goroutine takes: ~256 ×
// 35 µs ≈ 9 ms of ed25519 work, large against the cost of a goroutine.
const verifyChunk = 256

// precheck verifies the origin signatures of routes announced by domain
// from, in parallel on at most GOMAXPROCS goroutines (over all streams),
// and returns their verdicts for the Speaker (fsm.ReceiveVerified). It runs
// on the stream's reader, before the UPDATE is posted to the loop, so the
// loop no longer spends ~35 µs per route and the stream's messages keep
// their order. Routes the RIB refuses before looking at their signature (a
// loop through us, a path not starting with from) are skipped; everything
// is still checked by the RIB, which only takes the signature's verdict.
func (n *Node) precheck(from string, rs []wire.Route) []rib.Verdict {
	vs := make([]rib.Verdict, len(rs))
	check := func(lo, hi int) {
		run := n.verifier.Run()
		for i := lo; i < hi; i++ {
			r := &rs[i]
			if len(r.Path) == 0 || r.Path[0] != from || r.Origin == n.cfg.Domain || slices.Contains(r.Path, n.cfg.Domain) {
				continue
			}
			vs[i] = rib.Precheck(n.keys, run, *r)
		}
	}
	if len(rs) <= verifyChunk {
		n.verifySem <- struct{}{}
		check(0, len(rs))
		<-n.verifySem
		return vs
	}
	var wg sync.WaitGroup
	for lo := 0; lo < len(rs); lo += verifyChunk {
		hi := min(lo+verifyChunk, len(rs))
		n.verifySem <- struct{}{}
		wg.Go(func() {
			defer func() { <-n.verifySem }()
			check(lo, hi)
		})
	}
	wg.Wait()
	return vs
}

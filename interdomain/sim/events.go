package sim

import (
	"container/heap"
	"time"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

// event is a scheduled action; seq orders events at the same instant.
type event struct {
	at  time.Time
	seq uint64
	fn  func()
}

type queue []*event

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

func (n *Network) schedule(at time.Time, fn func()) {
	n.seq++
	heap.Push(&n.queue, &event{at: at, seq: n.seq, fn: fn})
}

// drain takes a speaker's output: messages go on their links, closes become
// a disconnect at the far end after the messages, and the next timer is
// scheduled.
func (n *Network) drain(nd *node) {
	out := nd.sp.Ready()
	for _, m := range out.Messages {
		l := n.links[key(nd.id, m.Peer)]
		n.count(m.Msg)
		n.transmit(nd.id, m.Peer, l, m.Msg)
	}
	for _, peer := range out.Close {
		l := n.links[key(nd.id, peer)]
		if !l.up {
			continue
		}
		epoch := l.epoch
		from, to := nd.id, peer
		if !l.blackhole {
			n.schedule(n.now.Add(l.latency), func() {
				if l.epoch != epoch {
					return
				}
				l.up = false
				l.epoch++
				far := n.nodes[to]
				_ = far.sp.Disconnected(n.now, from, closedError{})
				n.drain(far)
			})
		} else {
			l.up = false
		}
	}
	if len(out.Changes) > 0 {
		n.stats.LastChange = n.now
		n.stats.Changes[nd.id] += len(out.Changes)
		if n.OnChange != nil {
			for _, c := range out.Changes {
				n.OnChange(n.now, nd.id, c)
			}
		}
	}
	for _, e := range out.Events {
		n.stats.Events = append(n.stats.Events, NodeEvent{At: n.now, Node: nd.id, Event: e})
	}
	n.arm(nd)
}

// closedError is what a speaker is told when its peer closed the stream.
type closedError struct{}

func (closedError) Error() string { return "stream closed by peer" }

func (n *Network) count(m wire.Message) {
	n.stats.Sent++
	n.stats.Messages[m.Type()]++
	if u, ok := m.(wire.Update); ok {
		n.stats.Announced += len(u.Announce)
		n.stats.Withdrawn += len(u.Withdraw)
		n.stats.Retracted += len(u.Retract)
	}
}

// transmit schedules delivery of m unless the link is down or black-holed.
func (n *Network) transmit(from, to string, l *link, m wire.Message) {
	if !l.up || l.blackhole {
		return
	}
	epoch := l.epoch
	n.schedule(n.now.Add(l.latency), func() {
		if l.epoch != epoch || l.blackhole {
			return
		}
		if n.Trace != nil {
			n.Trace(n.now, from, to, m)
		}
		nd := n.nodes[to]
		_ = nd.sp.Receive(n.now, from, m)
		n.drain(nd)
	})
}

// arm schedules the speaker's next Tick if it is earlier than the one
// already scheduled.
func (n *Network) arm(nd *node) {
	d := nd.sp.NextDeadline()
	if d.IsZero() || (!nd.timerAt.IsZero() && !d.Before(nd.timerAt)) {
		return
	}
	if d.Before(n.now) {
		d = n.now
	}
	nd.timerAt = d
	sp := nd.sp
	n.schedule(d, func() {
		if nd.sp != sp || !nd.timerAt.Equal(d) {
			return // superseded, or the node was restarted
		}
		nd.timerAt = time.Time{}
		sp.Tick(n.now)
		n.drain(nd)
	})
}

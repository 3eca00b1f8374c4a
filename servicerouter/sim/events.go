package sim

import (
	"container/heap"
	"time"
)

type kind uint8

const (
	arrival kind = iota
	departure
	measure // an instance counts its free slots
	deliver // a report reaches the router
	tick    // the router rebuilds its table
)

type event struct {
	at         time.Duration
	seq        uint64 // insertion order breaks ties: the run stays deterministic
	kind       kind
	inst       int           // instance for departure, measure and deliver
	free       int           // free slots carried by deliver
	measuredAt time.Duration // when a delivered report was counted
}

// queue is a min-heap of events by time, then insertion order.
type queue struct {
	events []event
	seq    uint64
}

func (q *queue) Len() int { return len(q.events) }
func (q *queue) Less(i, j int) bool {
	a, b := q.events[i], q.events[j]
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}
func (q *queue) Swap(i, j int) { q.events[i], q.events[j] = q.events[j], q.events[i] }
func (q *queue) Push(x any)    { q.events = append(q.events, x.(event)) }
func (q *queue) Pop() any {
	e := q.events[len(q.events)-1]
	q.events = q.events[:len(q.events)-1]
	return e
}

func (q *queue) add(e event) {
	e.seq = q.seq
	q.seq++
	heap.Push(q, e)
}

func (q *queue) next() event { return heap.Pop(q).(event) }

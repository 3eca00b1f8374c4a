package gnmi

import (
	"fmt"
	"sync/atomic"
	"testing"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
)

const benchLeaves = 1000

func benchPaths() []string {
	paths := make([]string, benchLeaves)
	for i := range paths {
		paths[i] = fmt.Sprintf("/services/service[name=svc%d]/instances/instance[id=i%d]/state/available-slots", i%10, i)
	}
	return paths
}

// BenchmarkSetWithSubscribers measures the writer side: Set throughput on
// 1000 leaves while N gRPC ON_CHANGE subscribers (over loopback, clients in
// the same process) consume everything. Writers never wait for
// subscribers; what slows them as N grows is sharing the CPUs with N
// senders and N decoding clients. delivered/s is the updates all
// subscribers received in the timed window (coalescing makes it less than
// sets × N when the writer outruns them).
func BenchmarkSetWithSubscribers(b *testing.B) {
	for _, n := range []int{0, 1, 10, 100} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			h := start(b, Options{})
			paths := benchPaths()
			for _, p := range paths {
				h.set(b, p, uint64(0))
			}
			var received atomic.Int64
			for range n {
				s := h.subscribe(b, h.client(b), streamList(onChange(b, "/services")))
				s.untilSync(b)
				go func() {
					for m := range s.msgs {
						received.Add(int64(len(m.GetUpdate().GetUpdate())))
					}
				}()
			}
			b.ResetTimer()
			received.Store(0)
			for i := range b.N {
				if err := h.tree.Set(paths[i%benchLeaves], uint64(i+1)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sets/s")
			b.ReportMetric(float64(received.Load())/b.Elapsed().Seconds(), "delivered/s")
		})
	}
}

// BenchmarkOnChangeDelivery measures the rate one ON_CHANGE subscriber
// receives updates when the writer does not outrun it: rounds of one change
// per leaf (1000 leaves), each round waited for until the subscriber has
// every value, so nothing coalesces and every change is delivered.
func BenchmarkOnChangeDelivery(b *testing.B) {
	h := start(b, Options{})
	paths := benchPaths()
	for _, p := range paths {
		h.set(b, p, uint64(0))
	}
	s := h.subscribe(b, h.client(b), streamList(onChange(b, "/services")))
	s.untilSync(b)
	before := h.target.Stats().Coalesced

	b.ResetTimer()
	delivered := 0
	for done := 0; done < b.N; {
		round := min(benchLeaves, b.N-done)
		for i := range round {
			if err := h.tree.Set(paths[i], uint64(done+i+1)); err != nil {
				b.Fatal(err)
			}
		}
		for got := 0; got < round; {
			n := len(flatten([]*gpb.Notification{s.next(b).GetUpdate()}))
			got += n
			delivered += n
		}
		done += round
	}
	b.StopTimer()
	if c := h.target.Stats().Coalesced - before; c != 0 {
		b.Errorf("%d updates coalesced in a paced run", c)
	}
	b.ReportMetric(float64(delivered)/b.Elapsed().Seconds(), "delivered/s")
}

// BenchmarkOnChangeFlood lets the writer run flat out against one ON_CHANGE
// subscriber, timed until the subscriber holds the final value of every
// leaf. delivered/s counts updates actually received; coalesced/op is the
// share of changes replaced by a newer value of the same leaf because the
// writer outran the stream (valid ON_CHANGE semantics, and counted).
func BenchmarkOnChangeFlood(b *testing.B) {
	h := start(b, Options{})
	paths := benchPaths()
	for _, p := range paths {
		h.set(b, p, uint64(0))
	}
	s := h.subscribe(b, h.client(b), streamList(onChange(b, "/services")))
	s.untilSync(b)
	before := h.target.Stats().Coalesced

	final := make(map[string]uint64, benchLeaves)
	for i := range b.N {
		final[paths[i%benchLeaves]] = uint64(i + 1)
	}
	b.ResetTimer()
	writeErr := make(chan error, 1)
	go func() {
		for i := range b.N {
			if err := h.tree.Set(paths[i%benchLeaves], uint64(i+1)); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- nil
	}()
	var delivered int
	for pending := len(final); pending > 0; {
		for _, u := range flatten([]*gpb.Notification{s.next(b).GetUpdate()}) {
			delivered++
			if want, ok := final[u.path]; ok && u.val == want {
				delete(final, u.path)
				pending--
			}
		}
	}
	b.StopTimer()
	if err := <-writeErr; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(delivered)/b.Elapsed().Seconds(), "delivered/s")
	b.ReportMetric(float64(h.target.Stats().Coalesced-before)/float64(b.N), "coalesced/op")
}

package gnmi

import (
	"fmt"
	"testing"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"
	"google.golang.org/grpc/codes"
)

func onChange(t testing.TB, path string) *gpb.Subscription {
	return &gpb.Subscription{Path: gpath(t, path), Mode: gpb.SubscriptionMode_ON_CHANGE}
}

func sample(t testing.TB, path string, every time.Duration) *gpb.Subscription {
	return &gpb.Subscription{Path: gpath(t, path), Mode: gpb.SubscriptionMode_SAMPLE, SampleInterval: uint64(every)}
}

// collect reads updates until pred says stop, returning all of them.
func (s *subscription) collect(t testing.TB, stop func([]leafUpdate) bool) []leafUpdate {
	t.Helper()
	var got []leafUpdate
	for !stop(got) {
		m := s.next(t)
		if m.GetSyncResponse() {
			t.Fatalf("unexpected sync_response after %v", got)
		}
		got = append(got, flatten([]*gpb.Notification{m.GetUpdate()})...)
	}
	return got
}

func TestStreamOnChangeDeliversEveryChange(t *testing.T) {
	for _, mode := range []gpb.SubscriptionMode{gpb.SubscriptionMode_ON_CHANGE, gpb.SubscriptionMode_TARGET_DEFINED} {
		t.Run(mode.String(), func(t *testing.T) {
			h := start(t, Options{})
			h.set(t, slotsWeb1, uint64(10))
			s := h.subscribe(t, h.client(t), streamList(&gpb.Subscription{Path: gpath(t, "/services"), Mode: mode}))
			initial := flatten(s.untilSync(t))
			if len(initial) != 1 || initial[0].path != slotsWeb1 || initial[0].val != uint64(10) {
				t.Fatalf("initial = %+v", initial)
			}

			var worst time.Duration
			for v := uint64(9); v > 0; v-- {
				changed := time.Now()
				h.set(t, slotsWeb1, v)
				got := s.collect(t, func(u []leafUpdate) bool { return len(u) > 0 })
				if lat := time.Since(changed); lat > worst {
					worst = lat
				}
				if len(got) != 1 || got[0].val != v || got[0].dups != 0 {
					t.Fatalf("after setting %d: %+v", v, got)
				}
			}
			t.Logf("worst change-to-delivery latency over 9 changes: %v", worst)

			h.set(t, "/services/service[name=web]/instances/instance[id=i2]/state/available-slots", uint64(1))
			_ = s.collect(t, func(u []leafUpdate) bool { return len(u) > 0 })
			if err := h.tree.Delete("/services/service[name=web]/instances/instance[id=i1]"); err != nil {
				t.Fatal(err)
			}
			del := s.collect(t, func(u []leafUpdate) bool { return len(u) > 0 })
			if len(del) != 1 || !del[0].deleted || del[0].path != slotsWeb1 {
				t.Fatalf("delete = %+v", del)
			}
		})
	}
}

func TestStreamSampleHonoursInterval(t *testing.T) {
	h := start(t, Options{})
	h.set(t, "/system/state/cpu-utilization", 1.5)
	const every, window = 200 * time.Millisecond, 2 * time.Second
	s := h.subscribe(t, h.client(t), streamList(sample(t, "/system", every)))
	if initial := flatten(s.untilSync(t)); len(initial) != 1 {
		t.Fatalf("initial = %+v", initial)
	}
	begin := time.Now()
	samples := 0
	for time.Since(begin) < window {
		m := s.next(t)
		for _, u := range flatten([]*gpb.Notification{m.GetUpdate()}) {
			if u.val != 1.5 {
				t.Fatalf("sample = %+v", u)
			}
			samples++
		}
	}
	// 10 expected; the band tolerates a loaded machine without accepting a
	// target that ignores the interval (which would send 1 or hundreds).
	t.Logf("%d samples of an unchanged leaf in %v at %v", samples, window, every)
	if samples < 5 || samples > 12 {
		t.Errorf("%d samples in %v at sample_interval %v, want about 10", samples, window, every)
	}
}

func TestStreamSampleZeroIntervalUsesMinimum(t *testing.T) {
	h := start(t, Options{MinInterval: 50 * time.Millisecond})
	h.set(t, "/system/state/cpu-utilization", 1.5)
	s := h.subscribe(t, h.client(t), streamList(sample(t, "/system", 0)))
	s.untilSync(t)
	// Three more samples prove a periodic stream exists.
	_ = s.collect(t, func(u []leafUpdate) bool { return len(u) >= 3 })
}

func TestHeartbeatResendsUnchangedOnChange(t *testing.T) {
	h := start(t, Options{})
	h.set(t, slotsWeb1, uint64(7))
	sub := onChange(t, "/services")
	sub.HeartbeatInterval = uint64(100 * time.Millisecond)
	s := h.subscribe(t, h.client(t), streamList(sub))
	initial := flatten(s.untilSync(t))
	got := s.collect(t, func(u []leafUpdate) bool { return len(u) >= 3 })
	for _, u := range got {
		if u.path != slotsWeb1 || u.val != uint64(7) || u.ts != initial[0].ts {
			t.Errorf("heartbeat = %+v, want the unchanged value with its original timestamp %d", u, initial[0].ts)
		}
	}
}

func TestSuppressRedundant(t *testing.T) {
	const a, b = "/s/state/a", "/s/state/b"
	tests := []struct {
		name      string
		heartbeat time.Duration
		wantB     bool // whether the unchanged leaf is resent
	}{
		{name: "without heartbeat", wantB: false},
		{name: "with heartbeat", heartbeat: 300 * time.Millisecond, wantB: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, Options{})
			h.set(t, a, 0)
			h.set(t, b, 0)
			sub := sample(t, "/s", 100*time.Millisecond)
			sub.SuppressRedundant = true
			sub.HeartbeatInterval = uint64(tc.heartbeat)
			s := h.subscribe(t, h.client(t), streamList(sub))
			if initial := flatten(s.untilSync(t)); len(initial) != 2 {
				t.Fatalf("initial = %+v", initial)
			}
			// Change a a few times, each time waiting to see it; every
			// wait spans at least one sample of b.
			sawB := false
			for v := 1; v <= 6; v++ {
				h.set(t, a, v)
				got := s.collect(t, func(u []leafUpdate) bool {
					return len(u) > 0 && u[len(u)-1].path == a && u[len(u)-1].val == int64(v)
				})
				for _, u := range got {
					if u.path == b {
						sawB = true
					}
					if u.path == a && u.val != int64(v) {
						t.Errorf("stale or repeated a: %+v while waiting for %d", u, v)
					}
				}
				time.Sleep(100 * time.Millisecond) // let samples without changes pass
			}
			if sawB != tc.wantB {
				t.Errorf("unchanged leaf resent = %v, want %v", sawB, tc.wantB)
			}
		})
	}
}

func TestUpdatesOnly(t *testing.T) {
	h := start(t, Options{})
	h.set(t, slotsWeb1, uint64(3))
	list := streamList(onChange(t, "/services"))
	list.UpdatesOnly = true
	s := h.subscribe(t, h.client(t), list)
	if initial := s.untilSync(t); len(initial) != 0 {
		t.Fatalf("updates_only sent initial values: %v", initial)
	}
	h.set(t, slotsWeb1, uint64(2))
	got := s.collect(t, func(u []leafUpdate) bool { return len(u) > 0 })
	if got[0].val != uint64(2) {
		t.Errorf("update = %+v", got)
	}
}

func TestOnce(t *testing.T) {
	h := start(t, Options{})
	for i := range 3 {
		h.set(t, fmt.Sprintf("/interfaces/interface[name=eth%d]/state/counters/in-octets", i), uint64(i))
	}
	c := h.client(t)
	s := h.subscribe(t, c, &gpb.SubscriptionList{Mode: gpb.SubscriptionList_ONCE, Subscription: []*gpb.Subscription{{Path: gpath(t, "/interfaces")}}})
	if got := flatten(s.untilSync(t)); len(got) != 3 {
		t.Errorf("ONCE sent %+v, want 3 leaves", got)
	}
	if err := s.end(t); err != nil {
		t.Errorf("ONCE did not end cleanly: %v", err)
	}

	missing := h.subscribe(t, c, &gpb.SubscriptionList{Mode: gpb.SubscriptionList_ONCE, Subscription: []*gpb.Subscription{{Path: gpath(t, "/interfaces/interface[name=eth9]")}}})
	wantCode(t, missing.end(t), codes.NotFound)
}

func TestPoll(t *testing.T) {
	h := start(t, Options{})
	h.set(t, slotsWeb1, uint64(5))
	s := h.subscribe(t, h.client(t), &gpb.SubscriptionList{Mode: gpb.SubscriptionList_POLL, Subscription: []*gpb.Subscription{{Path: gpath(t, "/services")}}})
	if got := flatten(s.untilSync(t)); len(got) != 1 || got[0].val != uint64(5) {
		t.Fatalf("initial poll = %+v", got)
	}
	h.set(t, slotsWeb1, uint64(4))
	for range 2 {
		if err := s.stream.Send(&gpb.SubscribeRequest{Request: &gpb.SubscribeRequest_Poll{Poll: &gpb.Poll{}}}); err != nil {
			t.Fatal(err)
		}
		if got := flatten(s.untilSync(t)); len(got) != 1 || got[0].val != uint64(4) {
			t.Fatalf("poll = %+v", got)
		}
	}
	if err := s.stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := s.end(t); err != nil {
		t.Errorf("POLL did not end cleanly on half-close: %v", err)
	}
}

func TestSampleReportsDeletes(t *testing.T) {
	h := start(t, Options{})
	h.set(t, "/s/state/a", 1)
	h.set(t, "/s/state/b", 2)
	s := h.subscribe(t, h.client(t), streamList(sample(t, "/s", 100*time.Millisecond)))
	if initial := flatten(s.untilSync(t)); len(initial) != 2 {
		t.Fatalf("initial = %+v", initial)
	}
	if err := h.tree.Delete("/s/state/b"); err != nil {
		t.Fatal(err)
	}
	got := s.collect(t, func(u []leafUpdate) bool {
		return len(u) > 0 && u[len(u)-1].deleted
	})
	if last := got[len(got)-1]; last.path != "/s/state/b" {
		t.Errorf("delete of %s, want /s/state/b", last.path)
	}
	// Later samples carry a but neither b nor a second delete.
	more := s.collect(t, func(u []leafUpdate) bool { return len(u) >= 2 })
	for _, u := range more {
		if u.path != "/s/state/a" || u.deleted {
			t.Errorf("after the delete: %+v", u)
		}
	}
}

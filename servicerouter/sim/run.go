package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/stitchnfv/stitch/servicerouter/maglev"
	"github.com/stitchnfv/stitch/servicerouter/slots"
)

// world is the state of one run.
type world struct {
	cfg  Config
	rng  *rand.Rand
	q    queue
	busy []int   // sessions per instance: the truth
	free int     // Σ free slots: is a refusal wrong?
	rate float64 // new sessions per second
	res  Result

	// Router state.
	views    []slots.Instance
	backends []maglev.Backend
	table    maglev.Table // FullTable
	upto     []int        // otherwise: entries [upto[i-1], upto[i]) go to instance i
	rr       int
}

// Run simulates cfg.Sessions new sessions after warm-up under cfg.Policy.
func Run(cfg Config) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, err
	}
	w := &world{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed)),
		busy:  make([]int, len(cfg.Slots)),
		views: make([]slots.Instance, len(cfg.Slots)),
		res:   Result{Policy: cfg.Policy},
	}
	for i, s := range cfg.Slots {
		w.free += s
		w.rate += cfg.Load * float64(s) / cfg.MeanDuration.Seconds()
		w.backends = append(w.backends, maglev.Backend{Index: uint32(i), Key: fmt.Sprintf("instance-%d", i), Weight: uint32(s)})
	}
	if err := w.start(); err != nil {
		return Result{}, err
	}
	for w.res.Sessions < cfg.Sessions {
		if err := w.step(w.q.next()); err != nil {
			return Result{}, err
		}
	}
	return w.res, nil
}

// start builds the first table and schedules the recurring events.
func (w *world) start() error {
	size := w.cfg.TableSize
	if w.cfg.Policy != StaticMaglev {
		for i := range w.backends {
			w.backends[i].Weight = 0 // nothing known before the first reports
		}
	}
	if w.cfg.FullTable {
		var err error
		if w.table, err = maglev.Build(size, w.backends); err != nil {
			return fmt.Errorf("sim: %w", err)
		}
	} else if err := w.apportion(); err != nil {
		return err
	}
	w.q.add(event{at: w.interarrival(), kind: arrival})
	for i := range w.cfg.Slots {
		phase := time.Duration(w.rng.Int64N(int64(w.cfg.ReportInterval) + 1))
		w.q.add(event{at: phase, kind: measure, inst: i})
	}
	if w.cfg.Policy == SlotAware {
		w.q.add(event{at: 0, kind: tick})
	}
	return nil
}

// apportion recomputes the entry ranges of the counts-only table.
func (w *world) apportion() error {
	q, err := maglev.Quotas(w.cfg.TableSize, w.backends)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	w.upto = w.upto[:0]
	sum := 0
	for _, n := range q {
		sum += n
		w.upto = append(w.upto, sum)
	}
	return nil
}

// lookup maps a flow hash to an instance as the Maglev table would, or -1.
func (w *world) lookup(hash uint32) int {
	if w.cfg.FullTable {
		if b := maglev.Lookup(w.table, hash); b != maglev.NoBackend {
			return int(b)
		}
		return -1
	}
	e := int(uint64(hash) % uint64(w.cfg.TableSize))
	for i, end := range w.upto {
		if e < end {
			return i
		}
	}
	return -1 // every weight is 0
}

// interarrival draws the time to the next new session (Poisson arrivals).
func (w *world) interarrival() time.Duration {
	return time.Duration(w.rng.ExpFloat64() / w.rate * float64(time.Second))
}

// step handles one event.
func (w *world) step(e event) error {
	switch e.kind {
	case arrival:
		w.q.add(event{at: e.at + w.interarrival(), kind: arrival})
		w.arrive(e.at)
	case departure:
		w.busy[e.inst]--
		w.free++
	case measure:
		w.q.add(event{at: e.at + w.cfg.Staleness, kind: deliver, inst: e.inst,
			free: w.cfg.Slots[e.inst] - w.busy[e.inst], measuredAt: e.at})
		w.q.add(event{at: e.at + w.cfg.ReportInterval, kind: measure, inst: e.inst})
	case deliver:
		if w.cfg.Policy == SlotAware {
			r := slots.Report{Max: w.cfg.Slots[e.inst], Available: e.free, MeasuredAt: at(e.measuredAt)}
			if err := w.views[e.inst].Observe(r, *w.cfg.Params); err != nil {
				return fmt.Errorf("sim: instance %d: %w", e.inst, err)
			}
		}
	case tick:
		w.q.add(event{at: e.at + w.cfg.RebuildEvery, kind: tick})
		return w.rebuild(e.at)
	}
	return nil
}

// at anchors simulated time for package slots, which takes wall times.
func at(d time.Duration) time.Time { return time.Unix(0, 0).Add(d) }

// rebuild recomputes the slot-aware weights and updates the table.
func (w *world) rebuild(now time.Duration) error {
	weights, err := slots.Weights(w.views, at(now), *w.cfg.Params)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	for i := range w.backends {
		w.backends[i].Weight = weights[i]
	}
	if !w.cfg.FullTable {
		return w.apportion()
	}
	next, changed, err := maglev.Update(w.table, w.backends)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	w.table = next
	if now >= w.cfg.Warmup && len(changed) > 0 {
		w.res.TableUpdates++
		w.res.EntriesChanged += len(changed)
	}
	return nil
}

// arrive places a new session.
func (w *world) arrive(now time.Duration) {
	inst := -1
	switch w.cfg.Policy {
	case SlotAware, StaticMaglev:
		inst = w.lookup(w.rng.Uint32())
	case RoundRobin:
		inst = w.rr
		w.rr = (w.rr + 1) % len(w.cfg.Slots)
	}
	counted := now >= w.cfg.Warmup
	if counted {
		w.res.Sessions++
	}
	if inst < 0 || w.busy[inst] == w.cfg.Slots[inst] {
		if counted {
			w.res.Refused++
			if w.free > 0 {
				w.res.WronglyRefused++
			}
		}
		return
	}
	if w.cfg.Policy == SlotAware {
		w.views[inst].Sent(at(now), 1)
	}
	w.busy[inst]++
	w.free--
	d := time.Duration(w.rng.ExpFloat64() * float64(w.cfg.MeanDuration))
	w.q.add(event{at: now + d, kind: departure, inst: inst})
}

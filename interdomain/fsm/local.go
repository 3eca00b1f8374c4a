package fsm

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

// ErrDuplicateService is returned by AnnounceAll for a service listed twice.
var ErrDuplicateService = errors.New("service listed twice")

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
	// alone is route's signature made alone, for peers without the
	// batch-signatures capability when route is batch-signed: made on
	// first need (see signedAlone), and dropped whenever route is
	// re-signed, so that it always covers route's signed fields.
	alone []byte
}

// Announce originates or updates a local service. A change of slots alone
// is rate-limited: applied at once if it moved by more than the
// SlotThreshold, else at most once per SlotInterval (Tick applies it).
func (s *Speaker) Announce(now time.Time, svc LocalService) error {
	return s.AnnounceAll(now, []LocalService{svc})
}

// announceStep is what AnnounceAll does with one service.
type announceStep int

const (
	stepNone    announceStep = iota // unchanged: only a pending slot count is dropped
	stepPending                     // a small slot move, held by the rate limit
	stepSlots                       // slots only, applied with the same signature
	stepSign                        // anything else: signed again
)

// AnnounceAll originates or updates local services as Announce does each,
// but the routes that need a new signature are signed together, in the
// order given, as batches (wire.SignBatch) unless DisableBatchSignatures,
// and the peers are flushed once. Every service is checked first: if one
// is invalid, or listed twice, it returns an error naming it and changes
// nothing.
func (s *Speaker) AnnounceAll(now time.Time, svcs []LocalService) error {
	routes := make([]wire.Route, len(svcs))
	seen := make(map[string]struct{}, len(svcs))
	for i, svc := range svcs {
		r := wire.Route{
			Service: svc.Name, Address: svc.Address, Port: svc.Port, Proto: svc.Proto,
			Origin: s.cfg.LocalID, Path: []string{s.cfg.LocalID},
			Slots: svc.Slots, Metric: svc.Metric, Ingress: svc.Ingress,
		}
		if err := r.Validate(); err != nil {
			return fmt.Errorf("announce %q: %w", svc.Name, err)
		}
		if _, dup := seen[svc.Name]; dup {
			return fmt.Errorf("announce %q: %w", svc.Name, ErrDuplicateService)
		}
		seen[svc.Name] = struct{}{}
		routes[i] = r
	}

	// Decide each service's step without touching the state but the
	// epoch counter, which is restored if signing fails.
	steps := make([]announceStep, len(routes))
	var toSign []int
	lastEpoch := s.lastEpoch
	for i := range routes {
		r := &routes[i]
		l := s.locals[r.Service]
		switch {
		case l != nil && sameButSlots(l.route, *r):
			switch {
			case l.route.Slots == r.Slots:
				steps[i] = stepNone
			case !s.bigSlotChange(l.route.Slots, r.Slots) && now.Before(l.appliedAt.Add(s.cfg.SlotInterval)):
				steps[i] = stepPending
			default:
				// Slots are not signed: the signature, alone or
				// of its batch, still holds.
				steps[i] = stepSlots
				r.Epoch, r.Signature, r.BatchIndex, r.BatchProof = l.route.Epoch, l.route.Signature, l.route.BatchIndex, l.route.BatchProof
			}
		case l != nil:
			// The epoch is kept while we originate the service,
			// whatever changes; a new one starts after a withdrawal.
			steps[i], r.Epoch = stepSign, l.route.Epoch
			toSign = append(toSign, i)
		default:
			steps[i], r.Epoch = stepSign, s.nextEpoch(now, 0)
			toSign = append(toSign, i)
		}
	}
	if err := s.signLocal(routes, toSign); err != nil {
		s.lastEpoch = lastEpoch
		return err
	}

	originated := false
	for i, r := range routes {
		l := s.locals[r.Service]
		switch steps[i] {
		case stepNone:
			l.pending = false
			continue
		case stepPending:
			l.pending, l.slots = true, r.Slots
			continue
		}
		nl := &local{route: r, appliedAt: now}
		if steps[i] == stepSlots {
			nl.alone = l.alone // same signed fields
		}
		s.locals[r.Service] = nl
		if c := s.rib.Originate(r); c != nil {
			s.changed(*c)
		}
		originated = true
	}
	if originated {
		s.flush(now)
	}
	return nil
}

// signLocal signs routes[i] for each i of idx, in that order: together as
// batches, or one by one if DisableBatchSignatures.
func (s *Speaker) signLocal(routes []wire.Route, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	if s.cfg.DisableBatchSignatures {
		for _, i := range idx {
			if err := wire.Sign(&routes[i], s.cfg.Key); err != nil {
				return fmt.Errorf("announce %q: %w", routes[i].Service, err)
			}
		}
		return nil
	}
	batch := make([]wire.Route, len(idx))
	for k, i := range idx {
		batch[k] = routes[i]
	}
	if err := wire.SignBatch(batch, s.cfg.Key); err != nil {
		return fmt.Errorf("announce %d services: %w", len(batch), err)
	}
	for k, i := range idx {
		routes[i] = batch[k]
	}
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
//
// Our own routes are signed alone once per signature of the local route
// (cached in its local), however many peers and exports need it.
func (s *Speaker) signedAlone(r wire.Route) (wire.Route, bool) {
	if r.Origin != s.cfg.LocalID {
		return wire.Route{}, false
	}
	l := s.locals[r.Service]
	if l == nil || !sameSigned(l.route, r) {
		return wire.Route{}, false
	}
	if l.alone == nil {
		c := r // Sign clears the copy's batch fields, not r's arrays
		if err := wire.Sign(&c, s.cfg.Key); err != nil {
			return wire.Route{}, false
		}
		l.alone = c.Signature
	}
	// Path, Slots and Metric stay the export's: they are not signed.
	r.Signature, r.BatchIndex, r.BatchProof = l.alone, 0, nil
	return r, true
}

// sameSigned reports whether a and b agree on every field the origin signs.
func sameSigned(a, b wire.Route) bool {
	return a.Service == b.Service && a.Address == b.Address && a.Port == b.Port &&
		a.Proto == b.Proto && a.Origin == b.Origin && a.Ingress == b.Ingress && a.Epoch == b.Epoch
}

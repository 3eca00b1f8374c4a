package fsm

import (
	"reflect"
	"time"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

// flush sends what is due to every established peer: retractions and
// withdrawals always, announcements when the peer's MRAI allows.
//
// The peers' dirty services are walked together, in order, so that a
// service dirty for several peers is exported to each in turn (the RIB
// then looks it up once); each peer's UPDATEs are the same, and go out in
// the same order, as if the peers were flushed one after the other.
func (s *Speaker) flush(now time.Time) {
	var buf [4]peerFlush
	fs := buf[:0]
	for _, p := range s.sessions {
		if p.state == Established && (!p.dirty.empty() || len(p.retract) > 0) {
			fs = append(fs, s.startFlush(now, p, false))
		}
	}
	if len(fs) == 1 {
		s.walk(&fs[0], len(fs[0].svcs))
	} else {
		for {
			// The least next service of any peer.
			var next string
			found := false
			for k := range fs {
				if f := &fs[k]; f.i < len(f.svcs) && (!found || f.svcs[f.i] < next) {
					next, found = f.svcs[f.i], true
				}
			}
			if !found {
				break
			}
			for k := range fs {
				if f := &fs[k]; f.i < len(f.svcs) && f.svcs[f.i] == next {
					s.walk(f, f.i+1)
				}
			}
		}
	}
	for k := range fs {
		s.endFlush(now, &fs[k])
		fs[k] = peerFlush{}
	}
}

// flushPeer diffs the dirty services' exports against Adj-RIB-Out and sends
// the difference in as few UPDATEs as the size limit allows. Withdrawals are
// exempt from the MRAI; announcements wait for it unless force (the initial
// table transfer).
func (s *Speaker) flushPeer(now time.Time, p *session, force bool) {
	f := s.startFlush(now, p, force)
	s.walk(&f, len(f.svcs))
	s.endFlush(now, &f)
}

// peerFlush is a flush of one peer under way.
type peerFlush struct {
	p           *session
	mayAnnounce bool
	u           wire.Update
	// svcs are the dirty services, sorted; i is the next to diff. kept
	// are those that stay dirty, rewritten in place over svcs: kept never
	// passes i.
	svcs, kept []string
	i          int
}

func (s *Speaker) startFlush(now time.Time, p *session, force bool) peerFlush {
	// Retractions go in the same UPDATE as the withdrawals they cause,
	// ahead of them.
	f := peerFlush{p: p, mayAnnounce: force || !now.Before(p.mraiAt), u: wire.Update{Retract: p.retract}}
	p.retract = nil
	f.svcs = p.dirty.sorted()
	f.kept = f.svcs[:0]
	return f
}

// walk diffs f's dirty services up to end.
func (s *Speaker) walk(f *peerFlush, end int) {
	p, svcs, u := f.p, f.svcs, &f.u
	id := p.cfg.ID
	// Most dirty services are announced, or most withdrawn: the first of
	// either makes room for all that remain, not a slice grown route by
	// route.
	for ; f.i < end; f.i++ {
		i, svc := f.i, svcs[f.i]
		want, ok := s.rib.Export(id, p.cfg.Export, svc)
		if ok && want.BatchDepth() > 0 && !p.caps.BatchSignatures {
			want, ok = s.signedAlone(want)
		}
		sent, was := s.rib.Sent(id, svc)
		switch {
		case !ok && was:
			if u.Withdraw == nil {
				u.Withdraw = make([]string, 0, len(svcs)-i)
			}
			u.Withdraw = append(u.Withdraw, svc)
			s.rib.RecordWithdrawn(id, svc)
		case !ok || (was && reflect.DeepEqual(want, sent)):
			// Nothing to tell.
		case f.mayAnnounce:
			if u.Announce == nil {
				u.Announce = make([]wire.Route, 0, len(svcs)-i)
			}
			u.Announce = append(u.Announce, want)
			s.rib.RecordSent(id, want)
		case was && !s.cfg.DisableGhostFlushing && len(want.Path) > len(sent.Path):
			// Ghost flushing (Bremler-Barr et al., 2003): our best got
			// worse but the MRAI holds the replacement back; the peer
			// would keep using, and re-exporting, a path we no longer
			// have. Withdraw it now (withdrawals are exempt); the new
			// path follows when the MRAI expires.
			if u.Withdraw == nil {
				u.Withdraw = make([]string, 0, len(svcs)-i)
			}
			u.Withdraw = append(u.Withdraw, svc)
			s.rib.RecordWithdrawn(id, svc)
			f.kept = append(f.kept, svc)
		default:
			f.kept = append(f.kept, svc) // stays dirty until the MRAI expires
		}
	}
}

// endFlush keeps what stays dirty and sends f's UPDATEs.
func (s *Speaker) endFlush(now time.Time, f *peerFlush) {
	p := f.p
	p.dirty.keep(f.kept)
	if len(f.u.Announce) > 0 && p.mrai > 0 {
		p.mraiAt = now.Add(p.mrai)
	}
	for _, part := range wire.SplitUpdate(f.u, s.cfg.MaxMessageSize) {
		s.sent(now, p, part)
	}
}

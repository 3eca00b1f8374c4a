package fsm

import (
	"reflect"
	"time"

	"github.com/stitchnfv/stitch/interdomain/wire"
)

// flush sends what is due to every established peer: retractions and
// withdrawals always, announcements when the peer's MRAI allows.
func (s *Speaker) flush(now time.Time) {
	for _, id := range s.order {
		if p := s.peers[id]; p.state == Established && (!p.dirty.empty() || len(p.retract) > 0) {
			s.flushPeer(now, p, false)
		}
	}
}

// flushPeer diffs the dirty services' exports against Adj-RIB-Out and sends
// the difference in as few UPDATEs as the size limit allows. Withdrawals are
// exempt from the MRAI; announcements wait for it unless force (the initial
// table transfer).
func (s *Speaker) flushPeer(now time.Time, p *session, force bool) {
	id := p.cfg.ID
	mayAnnounce := force || !now.Before(p.mraiAt)
	// Retractions go in the same UPDATE as the withdrawals they cause,
	// ahead of them.
	u := wire.Update{Retract: p.retract}
	p.retract = nil
	svcs := p.dirty.sorted()
	kept := svcs[:0] // rewritten in place: kept never passes svc
	for _, svc := range svcs {
		want, ok := s.rib.Export(id, p.cfg.Export, svc)
		sent, was := s.rib.Sent(id, svc)
		switch {
		case !ok && was:
			u.Withdraw = append(u.Withdraw, svc)
			s.rib.RecordWithdrawn(id, svc)
		case !ok || (was && reflect.DeepEqual(want, sent)):
			// Nothing to tell.
		case mayAnnounce:
			u.Announce = append(u.Announce, want)
			s.rib.RecordSent(id, want)
		case was && !s.cfg.DisableGhostFlushing && len(want.Path) > len(sent.Path):
			// Ghost flushing (Bremler-Barr et al., 2003): our best got
			// worse but the MRAI holds the replacement back; the peer
			// would keep using, and re-exporting, a path we no longer
			// have. Withdraw it now (withdrawals are exempt); the new
			// path follows when the MRAI expires.
			u.Withdraw = append(u.Withdraw, svc)
			s.rib.RecordWithdrawn(id, svc)
			kept = append(kept, svc)
		default:
			kept = append(kept, svc) // stays dirty until the MRAI expires
		}
	}
	p.dirty.keep(kept)
	if len(u.Announce) > 0 && p.mrai > 0 {
		p.mraiAt = now.Add(p.mrai)
	}
	for _, part := range wire.SplitUpdate(u, s.cfg.MaxMessageSize) {
		s.sent(now, p, part)
	}
}

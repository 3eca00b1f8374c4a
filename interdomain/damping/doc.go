// Package damping implements route flap damping (RFC 2439) with the
// thresholds RIPE-580 recommends, as a pure value driven by the times you
// pass in.
//
// Each (peer, service) route keeps a penalty that grows with every flap and
// decays exponentially with a half-life. Above the suppress threshold the
// route is not used; it is used again once the penalty has decayed below the
// reuse threshold. The penalty is capped so that no route stays suppressed
// longer than MaxSuppress.
//
// RIPE-580 found that with the old suppress threshold of 2000 a single
// withdrawal followed by BGP path hunting (a few announcements with longer
// and longer paths) was enough to suppress a perfectly stable prefix; it
// advises a threshold of at least 6000 with 1000 per flap. We charge 1000 per
// withdrawal and 500 per change of domain path or origin, and nothing for a
// change of slots or metric alone: those are load signals that the origin
// already rate-limits, not instability, and charging them would suppress
// every busy service.
package damping

// Package slots turns stale session-slot reports into the weights the
// service router gives instances in its Maglev table (FUSION D3.1 §4.3).
//
// Every instance reports its slots: how many it was given (Max) and how
// many are free (Available), stamped with the time it counted them. By the
// time a report has crossed the network (about 100 ms) and the table built
// from it has been used until the next rebuild, the count is old: new
// sessions have taken slots and finished sessions have freed some. A
// router that spends the last free slot of an instance on such a count
// refuses the session whenever the slot was taken meanwhile (§4.3.2.5).
//
// # The rule
//
// Per instance the router keeps an exponentially weighted moving average
// ū and variance σ² of the slot use u = Max − Available. The weight of a
// report is α = 1 − exp(−Δt/Tau), Δt the time since the previous report,
// so irregular or missing reports are handled: a report after a long gap
// outweighs the history, two reports a millisecond apart barely move it.
//
// The router also records the new sessions it sends to each instance
// (Sent; the XDP program's per-backend new-flow counters do). When it
// rebuilds the table at time now, for a report of age a = now − MeasuredAt
// that will be used for another Horizon, with T = SessionDuration:
//
//	arrivals   = Sent since MeasuredAt + (1 − Share)·(ū/T)·a
//	departures = used·q,  q = 1 − exp(−(a+Horizon)/T)
//	σ_a²       = used·q·(1−q) + σ²·(1 − exp(−2(a+Horizon)/T))
//	headroom   = arrivals + K·σ_a
//	weight     = floor(free + departures − headroom + Spend), at least 0
//
// Arrivals are the slots taken since the report was measured: those this
// router sent, counted exactly, plus rate × staleness for the share of the
// instance's traffic that other routers send (ū/T is the instance's
// steady-state session rate, by Little's law). Departures are the sessions
// of the report that end before the table is rebuilt; sessions end
// independently at rate 1/T. The standard deviation σ_a covers which of
// them end (binomial) and how far use wanders from the report under
// load the router does not see (use is mean-reverting with relaxation
// time T: the variance grows with age up to σ²). So the headroom grows
// with churn, staleness and instability; with fresh reports and stable
// load the router uses every slot.
//
// # Measured session length
//
// T is the configured SessionDuration unless the router measures that the
// instance's sessions are much shorter. By Little's law the mean session
// length is the sessions in use over the rate they start at; the router
// knows the rate it sends at (an EWMA of Sent per report interval, when it
// counts all of the instance's sessions, Share = 1) and the use the
// reports show, so T̂ = max(ū, used)/rate. Little's law needs a steady
// state: while use grows by most of what is sent (an EWMA of Δuse/Sent
// above 0.5, the first sample taken as it is) the sessions are long and
// still piling up, and T stays configured. T̂ is used only under a tenth of
// SessionDuration (closer, a few sends more in one interval move it by
// half: noise) and at least MinSessionDuration; then the sessions sent
// since the report count as arrivals only while they are expected to last
// (each ends at rate 1/T̂). Without it a service of 5 ms requests at a few
// hundred per second is refused as soon as one report interval's requests
// outnumber the free slots, although almost none is in use. In the
// simulation below (T known) the measurement never engages and the
// figures are unchanged.
//
// The weight therefore estimates how many sessions the instance can still
// take during the table's lifetime, less K standard deviations. The last
// slot of an instance is spent only when free − headroom is at least
// 1 − Spend: an instance that is likely full by the time a request gets
// there gets weight 0, and new sessions go to instances with room to
// spare, even if farther away.
//
// Draining instances, instances that never reported and instances whose
// last report is older than Timeout get weight 0 (ghost slots, §4.3.3).
// When every weight is 0, Weights falls back to the expected free slots
// without headroom (see Weights).
//
// # Parameters and defaults (DefaultParams)
//
//   - Tau = 1 s: time constant of the moving average and variance, ten
//     reports at 100 ms: the variance should describe how unstable the
//     instance is now, not over the last minutes (10 s refused 0.05
//     points more in the simulation).
//   - SessionDuration = 10 s: mean session length of the service type;
//     the router measures shorter ones (above).
//   - Horizon = 20 ms: how long a weight is used after now, the router's
//     table rebuild interval. Rebuilds are cheap (maglev.Update changes
//     only the entries that must move) and the Sent count changes between
//     reports, so rebuilding more often than reports arrive pays.
//   - K = 2: standard deviations of headroom.
//   - Spend = 0.5: a slot counts when the expected surplus reaches half a
//     slot (0.5 = round to nearest, 0 = only whole slots, 1 = any surplus).
//   - Share = 1: the fraction of an instance's new sessions that this
//     router counts with Sent. 1 for a single router or for counters
//     summed over all routers; 0 when nothing is counted, which leaves
//     pure rate × staleness.
//   - Timeout = 1 s: reports older than this are ghosts; the instance gets
//     weight 0 until it reports again.
//
// In the simulation of package sim (12 instances of 10, 50 and 200 slots,
// 95 % load, 10 s sessions, reports every 100 ms arriving 100 ms stale)
// these defaults refuse 0.8 % of new sessions (0.7–0.9 % over seeds)
// while some instance had a free slot; without headroom (K = 0) 1.5 %;
// without counting sends (Share = 0: rate × staleness only) 1.0 %. A
// first version that subtracted rate × staleness but neither counted the
// sessions ending meanwhile nor rebuilt between reports refused 2.3–3.2 %:
// at high load free slots are few, so the slots that free up while a
// report travels are much of the capacity the router can give out.
//
// Everything here is a pure function of the reports, the sends and the
// times passed in: no clocks, no goroutines, no shared state.
package slots

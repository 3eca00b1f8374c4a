// Package maglev builds weighted Maglev lookup tables for the service router
// and for the XDP fast path, which reads the same []uint32 array.
//
// A table has M entries (M prime, at least 65,537). Each entry holds the
// index of a backend (a service instance); a new flow goes to
// table[hash % M]. Every backend owns a preference order over the entries:
// the permutation offset + j·skip (mod M), where offset and skip come from
// two hashes of the backend's key (its stable name). Because M is prime,
// every skip in [1, M−1] visits every entry exactly once.
//
// # Exact shares
//
// Classic Maglev gives every backend one entry per round; weighted variants
// that only honour weights in the first round (Katran's default builder)
// end up far from the weights. Here the number of entries of every backend
// is fixed up front by apportioning M in proportion to the weights with the
// largest-remainder method, so each backend gets floor or ceil of
// M·w/Σw entries: within one entry of its exact share. The preference order
// only decides which entries, never how many: backends take turns claiming
// their next preferred free entry until their quota is reached.
//
// # Minimal churn
//
// Weights follow free session slots and change with every slot report, so
// tables are updated, not rebuilt. Update keeps every entry whose owner is
// still within quota. A backend above its new quota releases its least
// preferred entries; removed and zero-weight backends release all of theirs;
// backends below quota then claim the released entries in their preference
// order. The number of entries that change is therefore Σ max(0, new−old)
// over backends, which is the least any table with exact shares can change.
//
// Build is Update from an empty table. An updated table can differ from a
// fresh Build for the same weights: which entries a backend holds depends on
// the history of weights it went through (a backend that shrank and grew
// again may hold entries further down its preference order). Its shares are
// the same and equally exact, and consistency between runs does not matter
// for correctness: established flows are pinned by the connection table, the
// Maglev table only places new flows. What matters is that each update moves
// as few new-flow placements as possible, and a fresh Build would move a
// large fraction of the table on every report (see the benchmarks). Routers
// that must agree on placements (ECMP in front of several routers) should
// apply the same sequence of updates, or Build from the same weights.
//
// The hash functions (FNV-1a then a SplitMix64 finaliser) are part of the
// table's contract: changing them reshuffles every table.
package maglev

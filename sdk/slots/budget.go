package slots

import (
	"os"
	"strconv"
	"sync"
)

// Budget counts an instance's session slots. It is safe for concurrent use.
type Budget struct {
	mu    sync.Mutex
	max   int
	inUse int
	seq   uint64
}

// Snapshot is one consistent reading, as served at GET /slots.
type Snapshot struct {
	Max       int    `json:"max"`
	Available int    `json:"available"`
	InUse     int    `json:"in_use"`
	Seq       uint64 `json:"seq"`
}

// New returns a budget of n slots (negative counts as 0).
func New(n int) *Budget { return &Budget{max: max(n, 0)} }

// FromEnv is the budget stitch gave the instance (STITCH_SLOTS), or def
// when it is unset or not a number.
func FromEnv(def int) int {
	if n, err := strconv.Atoi(os.Getenv("STITCH_SLOTS")); err == nil && n >= 0 {
		return n
	}
	return def
}

// Acquire takes a slot for one session. release gives it back and may be
// called more than once.
func (b *Budget) Acquire() (release func(), ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inUse >= b.max {
		return func() {}, false
	}
	b.inUse++
	b.seq++
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			b.inUse--
			b.seq++
			b.mu.Unlock()
		})
	}, true
}

// Max is the current budget.
func (b *Budget) Max() int { return b.Snapshot().Max }

// Available is how many sessions may still start; never negative, even
// when Max was lowered below the sessions in flight.
func (b *Budget) Available() int { return b.Snapshot().Available }

// InUse is how many sessions hold a slot.
func (b *Budget) InUse() int { return b.Snapshot().InUse }

// SetMax sets a new budget (negative counts as 0). Sessions above a
// lowered budget keep their slots until they end; no new one starts until
// the count is back under it.
func (b *Budget) SetMax(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.max = max(n, 0)
	b.seq++
}

// Snapshot reads max, available and in use at one instant.
func (b *Budget) Snapshot() Snapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	return Snapshot{Max: b.max, Available: max(b.max-b.inUse, 0), InUse: b.inUse, Seq: b.seq}
}

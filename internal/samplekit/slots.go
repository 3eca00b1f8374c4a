package samplekit

import "sync"

// Slots counts FUSION session slots: an instance is given resources for
// about Max parallel sessions; each session holds one slot while it lasts.
// The zone manager may change Max at run time (ServiceModifySessions).
type Slots struct {
	mu    sync.Mutex
	max   int
	inUse int
}

// SlotsSnapshot is one consistent reading, as served at GET /slots.
type SlotsSnapshot struct {
	Max       int `json:"max"`
	Available int `json:"available"`
	InUse     int `json:"in_use"`
}

// NewSlots returns a budget of n slots (negative counts as 0).
func NewSlots(n int) *Slots { return &Slots{max: max(n, 0)} }

// Acquire takes a slot for one session. release gives it back and may be
// called more than once.
func (s *Slots) Acquire() (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inUse >= s.max {
		return func() {}, false
	}
	s.inUse++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.inUse--
			s.mu.Unlock()
		})
	}, true
}

// Max is the current budget.
func (s *Slots) Max() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max
}

// Available is how many sessions may still start; never negative, even
// when Max was lowered below the sessions in flight.
func (s *Slots) Available() int { return s.Snapshot().Available }

// InUse is how many sessions hold a slot.
func (s *Slots) InUse() int { return s.Snapshot().InUse }

// SetMax sets a new budget (negative counts as 0). Sessions above a
// lowered budget keep their slots until they end; no new one starts until
// the count is back under it.
func (s *Slots) SetMax(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.max = max(n, 0)
}

// Snapshot reads max, available and in use at one instant.
func (s *Slots) Snapshot() SlotsSnapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SlotsSnapshot{Max: s.max, Available: max(s.max-s.inUse, 0), InUse: s.inUse}
}

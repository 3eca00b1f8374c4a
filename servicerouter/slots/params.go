package slots

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("slots: invalid input")

// Params tune the headroom rule; see the package documentation for the
// rule and the defaults.
type Params struct {
	Tau             time.Duration // EWMA time constant of use and its variance
	SessionDuration time.Duration // mean session length of the service type
	Horizon         time.Duration // how long a weight is used after it is computed
	K               float64       // headroom in standard deviations
	Spend           float64       // fraction of a slot the surplus needs to count, in [0, 1]
	Share           float64       // fraction of the instance's new sessions this router counts with Sent, in [0, 1]
	Timeout         time.Duration // reports older than this give weight 0
}

// DefaultParams returns the defaults documented in the package comment.
func DefaultParams() Params {
	return Params{
		Tau:             time.Second,
		SessionDuration: 10 * time.Second,
		Horizon:         20 * time.Millisecond,
		K:               2,
		Spend:           0.5,
		Share:           1,
		Timeout:         time.Second,
	}
}

// Validate reports the first parameter out of range.
func (p Params) Validate() error {
	switch {
	case p.Tau <= 0:
		return fmt.Errorf("%w: Tau %v must be positive", ErrInvalid, p.Tau)
	case p.SessionDuration <= 0:
		return fmt.Errorf("%w: SessionDuration %v must be positive", ErrInvalid, p.SessionDuration)
	case p.Horizon < 0:
		return fmt.Errorf("%w: Horizon %v must not be negative", ErrInvalid, p.Horizon)
	case p.Timeout <= 0:
		return fmt.Errorf("%w: Timeout %v must be positive", ErrInvalid, p.Timeout)
	case !(p.K >= 0) || math.IsInf(p.K, 0): // !(≥) also rejects NaN
		return fmt.Errorf("%w: K %v must be a finite number ≥ 0", ErrInvalid, p.K)
	case !(p.Spend >= 0 && p.Spend <= 1):
		return fmt.Errorf("%w: Spend %v must be in [0, 1]", ErrInvalid, p.Spend)
	case !(p.Share >= 0 && p.Share <= 1):
		return fmt.Errorf("%w: Share %v must be in [0, 1]", ErrInvalid, p.Share)
	}
	return nil
}

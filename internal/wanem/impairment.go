package wanem

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrInvalid marks an Impairment or Config that cannot be used.
var ErrInvalid = errors.New("wanem: invalid")

// maxDelay bounds delay and jitter like lab's stitch.wan.* labels: anything
// larger is a typo, not a WAN.
const maxDelay = time.Minute

// Distribution is the shape of the jitter added to Delay.
type Distribution int

const (
	// Uniform jitter is drawn from [-Jitter, +Jitter], netem's default.
	Uniform Distribution = iota
	// Normal jitter has standard deviation Jitter.
	Normal
)

func (d Distribution) String() string {
	switch d {
	case Uniform:
		return "uniform"
	case Normal:
		return "normal"
	}
	return fmt.Sprintf("Distribution(%d)", int(d))
}

// Impairment is what one direction of a link does to packets.
type Impairment struct {
	// Delay is the one-way latency added to every packet.
	Delay time.Duration
	// Jitter varies Delay per packet (see Distribution); needs a Delay.
	Jitter time.Duration
	// Distribution of the jitter; the zero value is Uniform.
	Distribution Distribution
	// Loss is the probability, in [0, 1], that a packet is dropped.
	Loss float64
	// RateBps limits the link to this many bits per second; 0 is unlimited.
	RateBps uint64
}

// IsZero reports whether the impairment leaves packets alone.
func (i Impairment) IsZero() bool { return i == Impairment{} }

// Validate reports every problem, wrapped in ErrInvalid.
func (i Impairment) Validate() error {
	var errs []error
	if i.Delay < 0 || i.Delay > maxDelay {
		errs = append(errs, fmt.Errorf("delay %v outside 0..%v", i.Delay, maxDelay))
	}
	if i.Jitter < 0 || i.Jitter > maxDelay {
		errs = append(errs, fmt.Errorf("jitter %v outside 0..%v", i.Jitter, maxDelay))
	}
	if i.Jitter > 0 && i.Delay == 0 {
		errs = append(errs, errors.New("jitter needs a delay"))
	}
	if i.Distribution != Uniform && i.Distribution != Normal {
		errs = append(errs, fmt.Errorf("unknown jitter distribution %v", i.Distribution))
	}
	if math.IsNaN(i.Loss) || i.Loss < 0 || i.Loss > 1 {
		errs = append(errs, fmt.Errorf("loss %v outside 0..1", i.Loss))
	}
	// Below 8 bit/s a single byte takes longer than a second: a typo.
	if i.RateBps != 0 && i.RateBps < 8 {
		errs = append(errs, fmt.Errorf("rate %d bit/s below 8", i.RateBps))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w impairment: %w", ErrInvalid, errors.Join(errs...))
}

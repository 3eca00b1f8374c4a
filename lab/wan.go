package lab

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Link labels (or vars) carrying WAN impairments; see README.md.
const (
	LabelWANDelay  = "stitch.wan.delay"
	LabelWANJitter = "stitch.wan.jitter"
	LabelWANLoss   = "stitch.wan.loss"
	LabelWANRate   = "stitch.wan.rate"
)

// maxWANDelay bounds delay and jitter: anything larger is a typo, not a WAN.
const maxWANDelay = time.Minute

// Impairment is what a WAN link does to packets, in each direction.
type Impairment struct {
	Delay  time.Duration `json:"delay,omitempty"`
	Jitter time.Duration `json:"jitter,omitempty"`
	// LossPercent in [0, 100].
	LossPercent float64 `json:"loss_percent,omitempty"`
	// RateBits per second; 0 means unlimited.
	RateBits uint64 `json:"rate_bits,omitempty"`
}

// NeedsNetem reports whether the impairment needs tc netem (anything but rate).
func (i Impairment) NeedsNetem() bool {
	return i.Delay > 0 || i.Jitter > 0 || i.LossPercent > 0
}

// IsZero reports whether the link is unimpaired.
func (i Impairment) IsZero() bool { return i == Impairment{} }

// parseImpairment reads stitch.wan.* from a link's labels and vars (either
// may carry them; if both do they must agree). It reports whether there
// were problems.
func parseImpairment(path string, labels map[string]string, vars map[string]any, p *problems) (Impairment, bool) {
	vals := map[string]string{}
	bad := false
	collect := func(where string, k, v string) {
		if !strings.HasPrefix(k, "stitch.") {
			return
		}
		switch k {
		case LabelWANDelay, LabelWANJitter, LabelWANLoss, LabelWANRate:
		default:
			p.add(path+"."+where+"."+k, "unknown stitch label on a link")
			bad = true
			return
		}
		if old, ok := vals[k]; ok && old != v {
			p.add(path+"."+where+"."+k, "%q disagrees with the labels' %q", v, old)
			bad = true
			return
		}
		vals[k] = v
	}
	// Sorted, so problems come out in a stable order.
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		collect("labels", k, labels[k])
	}
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		collect("vars", k, fmt.Sprint(vars[k]))
	}
	var imp Impairment
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		v := vals[k]
		var err error
		switch k {
		case LabelWANDelay:
			imp.Delay, err = parseWANDuration(v)
		case LabelWANJitter:
			imp.Jitter, err = parseWANDuration(v)
		case LabelWANLoss:
			imp.LossPercent, err = parsePercent(v)
		case LabelWANRate:
			imp.RateBits, err = parseRate(v)
		}
		if err != nil {
			p.add(path+"."+k, "%v", err)
			bad = true
		}
	}
	if imp.Jitter > 0 && imp.Delay == 0 {
		p.add(path+"."+LabelWANJitter, "jitter needs a delay")
		bad = true
	}
	return imp, bad
}

func parseWANDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 20ms", s)
	}
	if d < 0 || d > maxWANDelay {
		return 0, fmt.Errorf("%q is outside 0..%v", s, maxWANDelay)
	}
	return d, nil
}

// parsePercent accepts "0.1%" or "0.1" (percent either way).
func parsePercent(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a percentage such as 0.1%%", s)
	}
	if v < 0 || v > 100 {
		return 0, fmt.Errorf("%q is outside 0..100%%", s)
	}
	return v, nil
}

// rateUnits are tc's rate units: bit-based (bit, kbit…) and byte-based
// (bps, kbps…), decimal and binary.
var rateUnits = []struct {
	suffix string
	bits   float64
}{
	{"kibit", 1024}, {"mibit", 1 << 20}, {"gibit", 1 << 30}, {"tibit", 1 << 40},
	{"kibps", 8 * 1024}, {"mibps", 8 << 20}, {"gibps", 8 << 30}, {"tibps", 8 << 40},
	{"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9}, {"tbit", 1e12},
	{"kbps", 8e3}, {"mbps", 8e6}, {"gbps", 8e9}, {"tbps", 8e12},
	{"bit", 1}, {"bps", 8},
}

// parseRate parses a tc-style rate such as "100mbit" into bits per second.
// A unit is required: a bare number is ambiguous between bits and bytes.
func parseRate(s string) (uint64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	for _, u := range rateUnits {
		num, ok := strings.CutSuffix(t, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			break
		}
		bits := v * u.bits
		if bits < 8 || bits > 1e15 {
			return 0, fmt.Errorf("%q is outside 8bit..1000tbit", s)
		}
		return uint64(bits), nil
	}
	return 0, fmt.Errorf("%q is not a rate such as 100mbit (units: bit, kbit, mbit, gbit, tbit, bps, kbps, mbps, gbps)", s)
}

// ParseWAN parses stitch.wan.* values written as the labels write them
// ("20ms", "2ms", "0.1%", "100mbit"); "" leaves a value unset. It is how
// stitch-wanrelay reads its flags, so the relay and the labels agree.
func ParseWAN(delay, jitter, loss, rate string) (Impairment, error) {
	var imp Impairment
	var errs []error
	if delay != "" {
		d, err := parseWANDuration(delay)
		imp.Delay, errs = d, append(errs, wrapArg("delay", err))
	}
	if jitter != "" {
		d, err := parseWANDuration(jitter)
		imp.Jitter, errs = d, append(errs, wrapArg("jitter", err))
	}
	if loss != "" {
		v, err := parsePercent(loss)
		imp.LossPercent, errs = v, append(errs, wrapArg("loss", err))
	}
	if rate != "" {
		v, err := parseRate(rate)
		imp.RateBits, errs = v, append(errs, wrapArg("rate", err))
	}
	if imp.Jitter > 0 && imp.Delay == 0 {
		errs = append(errs, errors.New("jitter needs a delay"))
	}
	if err := errors.Join(errs...); err != nil {
		return Impairment{}, err
	}
	return imp, nil
}

func wrapArg(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}

// relayArgs are the stitch-wanrelay flags carrying imp, in ParseWAN's syntax.
func (i Impairment) relayArgs() []string {
	var args []string
	if i.Delay > 0 {
		args = append(args, "--delay", i.Delay.String())
	}
	if i.Jitter > 0 {
		args = append(args, "--jitter", i.Jitter.String())
	}
	if i.LossPercent > 0 {
		args = append(args, "--loss", strconv.FormatFloat(i.LossPercent, 'f', -1, 64)+"%")
	}
	if i.RateBits > 0 {
		args = append(args, "--rate", strconv.FormatUint(i.RateBits, 10)+"bit")
	}
	return args
}

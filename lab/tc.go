package lab

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/stitchnfv/stitch/internal/namedns"
)

// tc shapes links through the tc binary: netlink's qdisc support is
// incomplete for netem/tbf options, and `tc` output is what operators read.
func tc(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "tc", args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("tc %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// probeNetem reports whether the kernel has the netem qdisc, by adding one
// to a veth in a throwaway namespace. The probe namespace's name
// cannot clash with a node's: node names never start with '-'.
func probeNetem(ctx context.Context, nsPrefix string) (bool, error) {
	if _, err := exec.LookPath("tc"); err != nil {
		return false, fmt.Errorf("tc not found: %w", err)
	}
	ns := nsPrefix + "--netem-probe"
	// A probe namespace left by a crashed deploy of this lab would block
	// every later one; the caller holds the lab's reservation, so it is ours.
	_ = namedns.Delete(ns)
	if err := createNetNS(ns); err != nil {
		return false, err
	}
	defer namedns.Delete(ns)
	err := namedns.DoNamed(ns, func() error {
		// veth, not dummy: kernels without CONFIG_DUMMY exist.
		return netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "probe0"}, PeerName: "probe1"})
	})
	if err != nil {
		return false, fmt.Errorf("netem probe: %w", err)
	}
	return tc(ctx, "-n", ns, "qdisc", "add", "dev", "probe0", "root", "netem", "delay", "1ms") == nil, nil
}

// applyImpairment shapes one veth end. With netem, one netem qdisc carries
// delay, jitter, loss and rate; without it only rate can be applied (tbf),
// and ErrUnsupported says the rest was not.
func applyImpairment(ctx context.Context, ns, dev string, imp Impairment, haveNetem bool) error {
	if imp.IsZero() {
		return nil
	}
	if haveNetem {
		args := []string{"-n", ns, "qdisc", "replace", "dev", dev, "root", "netem"}
		if imp.Delay > 0 || imp.Jitter > 0 {
			args = append(args, "delay", usec(imp.Delay))
			if imp.Jitter > 0 {
				args = append(args, usec(imp.Jitter))
			}
		}
		if imp.LossPercent > 0 {
			args = append(args, "loss", strconv.FormatFloat(imp.LossPercent, 'f', -1, 64)+"%")
		}
		if imp.RateBits > 0 {
			args = append(args, "rate", strconv.FormatUint(imp.RateBits, 10)+"bit")
		}
		return tc(ctx, args...)
	}
	if imp.RateBits > 0 {
		if err := tc(ctx, "-n", ns, "qdisc", "replace", "dev", dev, "root", "tbf",
			"rate", strconv.FormatUint(imp.RateBits, 10)+"bit",
			"burst", strconv.FormatUint(tbfBurst(imp.RateBits), 10),
			"latency", "50ms"); err != nil {
			return err
		}
	}
	if imp.NeedsNetem() {
		return fmt.Errorf("%w: delay/jitter/loss on %s in %s need tc netem, which this kernel lacks", ErrUnsupported, dev, ns)
	}
	return nil
}

// tbfBurst is the bucket size in bytes: 10 ms worth of traffic, and never
// less than a few full-size frames, or tbf cannot reach its rate.
func tbfBurst(rateBits uint64) uint64 {
	return max(rateBits/8/100, 16*1024)
}

func usec(d time.Duration) string { return strconv.FormatInt(d.Microseconds(), 10) + "us" }

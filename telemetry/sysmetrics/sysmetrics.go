// Package sysmetrics publishes the standard metrics every stitch service
// reports into a telemetry.Tree: the process's CPU and memory use and the
// counters and state of the interfaces in the process's own network
// namespace. The lab runs each VNF in its own namespace, so a VNF reports
// its own interfaces, not the host's.
//
// Published paths (OpenConfig naming where OpenConfig has the leaf):
//
//	/system/state/cpu-utilization       float  % of the CPUs the process may use, over the last interval
//	/system/memory/state/used           uint   resident set size of the process, bytes
//	/system/memory/state/physical       uint   memory of the machine, bytes
//	/interfaces/interface[name=N]/state/oper-status    string UP, DOWN, UNKNOWN, DORMANT, …
//	/interfaces/interface[name=N]/state/admin-status   string UP or DOWN
//	/interfaces/interface[name=N]/state/mtu            uint
//	/interfaces/interface[name=N]/state/counters/{in,out}-{octets,pkts,errors,discards}  uint
//
// Interfaces that disappear are deleted from the tree.
package sysmetrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stitchnfv/stitch/telemetry"
)

// Options configure Run. The zero value is usable.
type Options struct {
	// Interval between two publications; 0 means 10 s.
	Interval time.Duration
	// Interface selects the interfaces to publish by name; nil means all.
	Interface func(name string) bool
	// Logger, nil means slog.Default().
	Logger *slog.Logger
}

// Run publishes once immediately and then every interval until ctx ends.
// A failed round is logged and retried at the next interval, because a
// missing metric must not take the service down; only ctx ends Run.
func Run(ctx context.Context, tree *telemetry.Tree, opts Options) error {
	if opts.Interval <= 0 {
		opts.Interval = 10 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	c := NewCollector(opts.Interface)
	tick := time.NewTicker(opts.Interval)
	defer tick.Stop()
	for {
		if err := c.Publish(tree); err != nil {
			log.Warn("publishing system metrics", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Collector reads the metrics and remembers what it needs between rounds
// (the previous CPU time, the interfaces it published). It is not safe for
// concurrent use; Run owns one.
type Collector struct {
	filter    func(string) bool
	lastCPU   time.Duration
	lastWall  time.Time
	published map[string]bool // interface names in the tree
}

// NewCollector returns a collector publishing the interfaces filter accepts
// (all if filter is nil).
func NewCollector(filter func(string) bool) *Collector {
	return &Collector{filter: filter, published: make(map[string]bool)}
}

// Publish reads every metric and writes them to tree in one atomic Apply,
// so a reader never sees half a round. A source that fails (say, netlink
// in a sandbox) does not stop the others from being published; its error
// is returned. CPU utilization appears from the
// second round on, since it is a rate.
func (c *Collector) Publish(tree *telemetry.Tree) error {
	var ops []telemetry.Op
	var errs []error

	cpu, err := processCPU()
	now := time.Now()
	if err != nil {
		errs = append(errs, err)
	} else {
		if !c.lastWall.IsZero() {
			ops = append(ops, telemetry.SetOp("/system/state/cpu-utilization", cpuPercent(cpu-c.lastCPU, now.Sub(c.lastWall))))
		}
		c.lastCPU, c.lastWall = cpu, now
	}
	if rss, err := residentBytes(); err != nil {
		errs = append(errs, err)
	} else {
		ops = append(ops, telemetry.SetOp("/system/memory/state/used", rss))
	}
	if total, err := physicalBytes(); err != nil {
		errs = append(errs, err)
	} else {
		ops = append(ops, telemetry.SetOp("/system/memory/state/physical", total))
	}
	ifOps, err := c.interfaces()
	if err != nil {
		errs = append(errs, err)
	}
	ops = append(ops, ifOps...)

	if err := tree.Apply(ops...); err != nil {
		return fmt.Errorf("sysmetrics: %w", err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sysmetrics: %w", err)
	}
	return nil
}

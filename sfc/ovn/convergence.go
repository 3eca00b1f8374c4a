package ovn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// hvPoll is how often WaitHypervisors reads NB_Global while it waits; one
// read is a select transaction on the open connection (well under a
// millisecond), so the wait's resolution is about this.
const hvPoll = time.Millisecond

// Convergence is what WaitHypervisors observed: the nb_cfg sequence number
// it asked every chassis to reach and how long that took.
type Convergence struct {
	// NbCfg is the nb_cfg value the wait bumped NB_Global to; hv_cfg was at
	// least this when it returned.
	NbCfg int
	// NBCfgTime is NB_Global nb_cfg_timestamp: when ovn-northd saw NbCfg
	// and started processing it. HVCfgTime is hv_cfg_timestamp: when
	// ovn-northd saw every chassis report it (hv_cfg caught up). Both are
	// ovn-northd's clock, in milliseconds.
	NBCfgTime, HVCfgTime time.Time
	// Elapsed is the client-side wall time from the bump's commit until the
	// wait saw hv_cfg reach NbCfg.
	Elapsed time.Duration
}

// Hypervisors is the NB-side convergence time the way OVN operators read
// it: hv_cfg_timestamp minus nb_cfg_timestamp.
func (c Convergence) Hypervisors() time.Duration { return c.HVCfgTime.Sub(c.NBCfgTime) }

// WaitHypervisors does what `ovn-nbctl --wait=hv sync` does: it increments
// NB_Global nb_cfg in one transaction and waits until ovn-northd reports
// hv_cfg at least that high, i.e. until every chassis's ovn-controller has
// processed everything committed before the bump. It returns when that
// happened or when ctx ends. With no chassis, hv_cfg follows nb_cfg as soon
// as ovn-northd has handled it.
func (c *Client) WaitHypervisors(ctx context.Context) (Convergence, error) {
	// nb_cfg >= 0 matches the single NB_Global row: RFC 7047 mutate needs
	// a where clause, and this one spares reading the row's UUID first.
	all := []ovsdb.Condition{{Column: "nb_cfg", Function: ovsdb.ConditionGreaterThanOrEqual, Value: 0}}
	ops := []ovsdb.Operation{
		{Op: ovsdb.OperationMutate, Table: "NB_Global", Where: all,
			Mutations: []ovsdb.Mutation{{Column: "nb_cfg", Mutator: ovsdb.MutateOperationAdd, Value: 1}}},
		{Op: ovsdb.OperationSelect, Table: "NB_Global", Columns: []string{"nb_cfg"}},
	}
	res, err := c.ovs.Transact(ctx, ops...)
	if err == nil {
		_, err = ovsdb.CheckOperationResults(res, ops)
	}
	if err != nil {
		return Convergence{}, fmt.Errorf("ovn: bump NB_Global nb_cfg: %w", err)
	}
	start := time.Now()
	if res[0].Count != 1 || len(res[1].Rows) != 1 {
		return Convergence{}, errors.New("ovn: NB has no NB_Global row (is ovn-northd running?)")
	}
	target, err := intColumn(res[1].Rows[0], "nb_cfg")
	if err != nil {
		return Convergence{}, err
	}
	read := []ovsdb.Operation{{Op: ovsdb.OperationSelect, Table: "NB_Global",
		Columns: []string{"hv_cfg", "nb_cfg_timestamp", "hv_cfg_timestamp"}}}
	for {
		res, err := c.ovs.Transact(ctx, read...)
		if err == nil {
			_, err = ovsdb.CheckOperationResults(res, read)
		}
		if err != nil {
			return Convergence{}, fmt.Errorf("ovn: read NB_Global: %w", err)
		}
		if len(res[0].Rows) != 1 {
			return Convergence{}, errors.New("ovn: NB_Global row disappeared")
		}
		row := res[0].Rows[0]
		hv, err := intColumn(row, "hv_cfg")
		if err != nil {
			return Convergence{}, err
		}
		if hv >= target {
			elapsed := time.Since(start)
			nbTS, err := intColumn(row, "nb_cfg_timestamp")
			if err != nil {
				return Convergence{}, err
			}
			hvTS, err := intColumn(row, "hv_cfg_timestamp")
			if err != nil {
				return Convergence{}, err
			}
			return Convergence{NbCfg: target, NBCfgTime: time.UnixMilli(int64(nbTS)),
				HVCfgTime: time.UnixMilli(int64(hvTS)), Elapsed: elapsed}, nil
		}
		select {
		case <-ctx.Done():
			return Convergence{}, fmt.Errorf("ovn: waiting for hv_cfg %d (at %d): %w", target, hv, ctx.Err())
		case <-time.After(hvPoll):
		}
	}
}

// intColumn reads an integer column of a raw select result, which JSON
// decoding leaves as a float64.
func intColumn(row ovsdb.Row, col string) (int, error) {
	switch v := row[col].(type) {
	case float64:
		return int(v), nil
	case int:
		return v, nil
	}
	return 0, fmt.Errorf("ovn: NB_Global %s is %T, want an integer", col, row[col])
}

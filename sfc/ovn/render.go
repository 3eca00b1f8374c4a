package ovn

import (
	"context"
	"fmt"
	"time"

	"github.com/ovn-org/libovsdb/ovsdb"
)

// settleTimeout bounds the wait for NB's monitor update after a commit;
// on a healthy connection it arrives within a millisecond.
const settleTimeout = 5 * time.Second

// Render makes NB hold exactly want for NS instance nsID (a UUID: its first
// 12 hex digits prefix every name). It creates, updates and deletes only
// rows tagged with the NS, in one transaction, and returns what changed;
// rendering unchanged input changes nothing. Invalid input is rejected
// before anything is written.
func (c *Client) Render(ctx context.Context, nsID string, want Network) (Changes, error) {
	if err := want.validate(); err != nil {
		return Changes{}, fmt.Errorf("ovn: render NS %s: %w", nsID, err)
	}
	return c.reconcile(ctx, nsID, want)
}

// Remove deletes every NB row of NS instance nsID, and nothing else.
func (c *Client) Remove(ctx context.Context, nsID string) (Changes, error) {
	return c.reconcile(ctx, nsID, Network{})
}

func (c *Client) reconcile(ctx context.Context, nsID string, want Network) (Changes, error) {
	prefix, err := nsPrefix(nsID)
	if err != nil {
		return Changes{}, fmt.Errorf("ovn: %w", err)
	}
	n := namer{nsID: nsID, prefix: prefix}
	d := n.desired(want)

	c.mu.Lock()
	defer c.mu.Unlock()
	a, err := c.actual(ctx, n)
	if err != nil {
		return Changes{}, fmt.Errorf("ovn: NS %s: %w", nsID, err)
	}
	p, err := c.plan(n, d, a)
	if err != nil {
		return Changes{}, fmt.Errorf("ovn: plan NS %s: %w", nsID, err)
	}
	if len(p.ops) == 0 {
		return Changes{}, nil
	}
	res, err := c.ovs.Transact(ctx, p.ops...)
	if err != nil {
		return Changes{}, fmt.Errorf("ovn: transact NS %s: %w", nsID, err)
	}
	if _, err := ovsdb.CheckOperationResults(res, p.ops); err != nil {
		return Changes{}, fmt.Errorf("ovn: NB rejected NS %s (nothing changed): %w", nsID, err)
	}
	if err := c.settle(ctx, n, d); err != nil {
		return p.ch, fmt.Errorf("ovn: NS %s committed but %w", nsID, err)
	}
	c.log.InfoContext(ctx, "rendered NS network into OVN NB", "ns", nsID,
		"created", len(p.ch.Created), "updated", len(p.ch.Updated), "deleted", len(p.ch.Deleted))
	return p.ch, nil
}

// settle waits until the monitored cache shows the committed transaction,
// i.e. until planning again yields nothing. ovsdb-server sends the update
// around the reply, and the next render must plan from the new state or it
// would redo this one.
func (c *Client) settle(ctx context.Context, n namer, d desired) error {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	for wait := 100 * time.Microsecond; ; wait = min(2*wait, 10*time.Millisecond) {
		a, err := c.actual(ctx, n)
		if err != nil {
			return err
		}
		p, err := c.plan(n, d, a)
		if err != nil {
			return err
		}
		if len(p.ops) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the cache still differs from it: %w (pending: %s)", ctx.Err(), p.ch.String())
		case <-time.After(wait):
		}
	}
}

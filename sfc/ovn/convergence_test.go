package ovn_test

import (
	"context"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/sfc/ovntest"
)

func TestWaitHypervisors(t *testing.T) {
	t.Parallel()
	env := ovntest.Start(t)
	ovntest.RequireChassis(t)
	c := dial(t, env)
	render(t, c, nsC, throughFirewall())
	env.AddChassis(t, "hv1", ovntest.ChassisOptions{})

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var last int
	for i := range 2 {
		conv, err := c.WaitHypervisors(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if conv.NbCfg <= last {
			t.Errorf("wait %d: nb_cfg %d, want above the previous %d", i, conv.NbCfg, last)
		}
		last = conv.NbCfg
		if conv.NBCfgTime.IsZero() || conv.HVCfgTime.Before(conv.NBCfgTime) || conv.Hypervisors() > 10*time.Second {
			t.Errorf("wait %d: nb_cfg_timestamp %v, hv_cfg_timestamp %v", i, conv.NBCfgTime, conv.HVCfgTime)
		}
		t.Logf("nb_cfg %d: hypervisors in %v (NB timestamps), waited %v", conv.NbCfg, conv.Hypervisors(), conv.Elapsed)
	}
	// ovn-nbctl sees what the wait did: hv_cfg caught up with nb_cfg.
	if nb, hv := env.NBCtl(t, "get", "NB_Global", ".", "nb_cfg"), env.NBCtl(t, "get", "NB_Global", ".", "hv_cfg"); nb != hv {
		t.Errorf("after the wait nb_cfg = %q, hv_cfg = %q", nb, hv)
	}

	// A wait that cannot finish in time says so instead of hanging.
	short, cancel := context.WithTimeout(t.Context(), time.Nanosecond)
	defer cancel()
	if _, err := c.WaitHypervisors(short); err == nil {
		t.Error("WaitHypervisors with an expired context succeeded")
	}
}

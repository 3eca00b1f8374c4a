package ovntest_test

import (
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/sfc/ovntest"
)

func TestStartRunsNorthd(t *testing.T) {
	t.Parallel()
	env := ovntest.Start(t)
	out, err := env.Ctl(t.Context(), "ovsdb-client", "list-dbs", env.NB())
	if err != nil || !strings.Contains(out, "OVN_Northbound") {
		t.Fatalf("list-dbs NB = %q, %v", out, err)
	}
	env.NBCtl(t, "ls-add", "sw0")
	// --wait=sb returns only once northd has translated NB into SB, which
	// proves northd is connected to both databases.
	env.NBCtl(t, "--wait=sb", "--timeout=10", "sync")
	if out := env.SBCtl(t, "lflow-list", "sw0"); !strings.Contains(out, "ls_in_check_port_sec") {
		t.Fatalf("no logical flows for sw0:\n%s", out)
	}
}

func TestParallelEnvsAreIsolated(t *testing.T) {
	t.Parallel()
	a, b := ovntest.Start(t), ovntest.Start(t)
	a.NBCtl(t, "ls-add", "only-in-a")
	if out := b.NBCtl(t, "ls-list"); strings.Contains(out, "only-in-a") {
		t.Fatalf("b sees a's switch: %s", out)
	}
}

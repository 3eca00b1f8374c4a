package daemon

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stitchnfv/stitch/vim"
	"github.com/stitchnfv/stitch/vim/local"
)

// TestStartSweepsUnrecordedResources leaves VIM resources tagged as
// stitch's for an NS instance the store does not know (as a crash between
// a VIM call and its record could), starts the daemon, and expects them
// gone while untagged ones stay.
func TestStartSweepsUnrecordedResources(t *testing.T) {
	cfg := testConfig(t)
	ctx := context.Background()
	drv, err := local.New(ctx, vimConfig(cfg, slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	ghost := vim.Tags{vim.TagNSInstance: "ghost", vim.TagOperation: "op"}
	if _, err := drv.EnsureNetwork(ctx, vim.NetworkSpec{Name: "ghost-net", CIDR: "10.66.0.0/24", Sites: []string{"core"}, Tags: ghost}); err != nil {
		t.Fatal(err)
	}
	for _, spec := range []vim.InstanceSpec{
		{Name: "ghost-0", Site: "core", Program: "sleep", Args: []string{"600"}, Tags: ghost,
			Ports: []vim.PortSpec{{Name: "data", Network: "ghost-net"}}},
		{Name: "not-stitchs", Site: "core", Program: "sleep", Args: []string{"600"}},
	} {
		if _, err := drv.CreateInstance(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	if err := drv.Close(); err != nil {
		t.Fatal(err)
	}

	d, _ := startInProcess(t, cfg)
	insts, err := d.VIM.ListInstances(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(insts) != 1 || insts[0].Name != "not-stitchs" {
		t.Fatalf("instances after start: %v, want only the untagged one", insts)
	}
	if nets, err := d.VIM.ListNetworks(ctx, nil); err != nil || len(nets) != 0 {
		t.Fatalf("networks after start: %v, %v; want the leaked one gone", nets, err)
	}
	if err := d.VIM.DeleteInstance(ctx, "not-stitchs", 0); err != nil {
		t.Fatal(err)
	}
	if leaks, err := d.VIM.Leaks(ctx); err != nil || len(leaks) != 0 {
		t.Fatalf("leaks: %v, %v", leaks, err)
	}
}

package ovn_test

import (
	"log/slog"
	"net/netip"
	"slices"
	"testing"

	"github.com/stitchnfv/stitch/sfc/ovn"
	"github.com/stitchnfv/stitch/sfc/ovntest"
)

const (
	nsA = "0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d" // names start 0a1b2c3d4e5f-
	nsB = "9f8e7d6c-5b4a-4321-8fed-cba987654321" // names start 9f8e7d6c5b4a-
)

// twoSwitch is a small NS: a client and a web front end on "front", the
// web back leg and a database on "back"; web and db accept only what their
// descriptors expose.
func twoSwitch() ovn.Network {
	return ovn.Network{
		Switches: []ovn.Switch{
			{Name: "front", CIDR: netip.MustParsePrefix("10.0.1.0/24"), Ports: []ovn.Port{
				{Name: "client", MAC: "0a:00:00:00:01:0a", IPs: []netip.Addr{netip.MustParseAddr("10.0.1.10")}},
				{Name: "web0", MAC: "0a:00:00:00:01:14", IPs: []netip.Addr{netip.MustParseAddr("10.0.1.20")}},
			}},
			{Name: "back", CIDR: netip.MustParsePrefix("10.0.2.0/24"), Ports: []ovn.Port{
				{Name: "web0-back", MAC: "0a:00:00:00:02:14", IPs: []netip.Addr{netip.MustParseAddr("10.0.2.20")}},
				{Name: "db0", MAC: "0a:00:00:00:02:1e", IPs: []netip.Addr{netip.MustParseAddr("10.0.2.30")}},
			}},
		},
		PortGroups: []ovn.PortGroup{
			{Name: "web", Ports: []string{"web0"}, Allow: []ovn.Rule{{Protocol: "tcp", Port: 8080}, {Protocol: "icmp"}}},
			{Name: "db", Ports: []string{"db0"}, Allow: []ovn.Rule{{Protocol: "tcp", Port: 5432}}},
		},
	}
}

func dial(t testing.TB, env *ovntest.Env) *ovn.Client {
	t.Helper()
	c, err := ovn.Dial(t.Context(), env.NB(), slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func render(t *testing.T, c *ovn.Client, nsID string, want ovn.Network) ovn.Changes {
	t.Helper()
	ch, err := c.Render(t.Context(), nsID, want)
	if err != nil {
		t.Fatalf("Render(%s): %v", nsID, err)
	}
	return ch
}

func assertChanges(t *testing.T, got ovn.Changes, created, updated, deleted []string) {
	t.Helper()
	for _, c := range []struct {
		what      string
		got, want []string
	}{{"created", got.Created, created}, {"updated", got.Updated, updated}, {"deleted", got.Deleted, deleted}} {
		want := slices.Sorted(slices.Values(c.want))
		if !slices.Equal(c.got, want) {
			t.Errorf("%s:\n got  %q\n want %q", c.what, c.got, want)
		}
	}
}

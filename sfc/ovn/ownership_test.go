package ovn_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/sfc/ovntest"
)

// TestOthersObjectsAreNeverTouched has a second writer (ovn-nbctl, no
// stitch tags) create rows — one switch even named like NS A's — and attach
// a port and an ACL to NS A's own switch and group; a second NS renders the
// same network. Render, change and Remove of NS A leave all of it alone.
func TestOthersObjectsAreNeverTouched(t *testing.T) {
	t.Parallel()
	env := ovntest.Start(t)
	c := dial(t, env)

	env.NBCtl(t,
		"ls-add", "0a1b2c3d4e5f-front", // same name as NS A's switch, untagged
		"--", "lsp-add", "0a1b2c3d4e5f-front", "other-p1",
		"--", "ls-add", "other-sw",
		"--", "lsp-add", "other-sw", "other-p2",
		"--", "pg-add", "other_pg", "other-p2",
		"--", "acl-add", "other_pg", "to-lport", "100", "outport == @other_pg && udp", "allow")
	before := dump(t, env)
	for _, name := range []string{"0a1b2c3d4e5f-front", "other-p1", "other-sw", "other_pg", "udp"} {
		if !strings.Contains(before, name) {
			t.Fatalf("second writer's %s missing from the dump:\n%s", name, before)
		}
	}

	render(t, c, nsB, twoSwitch())
	render(t, c, nsA, twoSwitch())
	// The second writer also hooks into NS A's own switch and group.
	swA := strings.TrimSpace(env.NBCtl(t, "--bare", "--columns=_uuid", "find", "Logical_Switch",
		"external_ids:stitch.ns-instance="+nsA, "external_ids:stitch.object=switch/back"))
	env.NBCtl(t, "lsp-add", swA, "other-on-a")
	env.NBCtl(t, "acl-add", "pg_0a1b2c3d4e5f_web", "to-lport", "100", "outport == @pg_0a1b2c3d4e5f_web && udp", "allow")

	// Changing NS A (dropping db0 and the db group) keeps the foreign port and ACL.
	want := twoSwitch()
	want.Switches[1].Ports = want.Switches[1].Ports[:1]
	want.PortGroups = want.PortGroups[:1]
	ch := render(t, c, nsA, want)
	assertChanges(t, ch, nil, []string{"Logical_Switch 0a1b2c3d4e5f-back"}, []string{
		"Logical_Switch_Port 0a1b2c3d4e5f-db0", "Port_Group pg_0a1b2c3d4e5f_db",
		"ACL pg_0a1b2c3d4e5f_db-tcp5432", "ACL pg_0a1b2c3d4e5f_db-deny",
	})
	if got := env.NBCtl(t, "lsp-get-ls", "other-on-a"); strings.TrimSpace(got) == "" {
		t.Error("the foreign port on NS A's switch was removed by a render")
	}
	if acls := env.NBCtl(t, "acl-list", "pg_0a1b2c3d4e5f_web"); !strings.Contains(acls, "&& udp) allow") {
		t.Errorf("the foreign ACL on NS A's group was removed by a render:\n%s", acls)
	}
	env.NBCtl(t, "lsp-del", "other-on-a")

	ch, err := c.Remove(t.Context(), nsA)
	if err != nil {
		t.Fatal(err)
	}
	assertChanges(t, ch, nil, nil, []string{
		"Logical_Switch 0a1b2c3d4e5f-front", "Logical_Switch 0a1b2c3d4e5f-back",
		"Logical_Switch_Port 0a1b2c3d4e5f-client", "Logical_Switch_Port 0a1b2c3d4e5f-web0",
		"Logical_Switch_Port 0a1b2c3d4e5f-web0-back", "Port_Group pg_0a1b2c3d4e5f_web",
		"ACL pg_0a1b2c3d4e5f_web-tcp8080", "ACL pg_0a1b2c3d4e5f_web-icmp", "ACL pg_0a1b2c3d4e5f_web-deny",
	})
	for _, table := range []string{"Logical_Switch", "Logical_Switch_Port", "Port_Group", "ACL"} {
		if out := env.NBCtl(t, "--bare", "--columns=_uuid", "find", table, "external_ids:stitch.ns-instance="+nsA); out != "" {
			t.Errorf("%s rows of NS A left after Remove: %q", table, out)
		}
	}
	if after := dump(t, env); after != before {
		t.Errorf("second writer's rows changed.\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if ch := render(t, c, nsB, twoSwitch()); !ch.Empty() {
		t.Errorf("NS B was disturbed by NS A's life cycle:\n%s", ch)
	}
	if ch, err := c.Remove(t.Context(), nsA); err != nil || !ch.Empty() {
		t.Errorf("second Remove = %v, %v; want no change", ch, err)
	}
}

// dump lists the untagged rows as the second writer sees them, one sorted
// line per row, since NB returns rows in no particular order.
func dump(t *testing.T, env *ovntest.Env) string {
	t.Helper()
	var lines []string
	for _, q := range [][2]string{
		{"Logical_Switch", "_uuid,name,ports,acls"},
		{"Logical_Switch_Port", "_uuid,name,addresses"},
		{"Port_Group", "_uuid,name,ports,acls"},
		{"ACL", "_uuid,match,action"},
	} {
		out := env.NBCtl(t, "--format=csv", "--data=bare", "--no-headings", "--columns="+q[1], "find", q[0], "external_ids={}")
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			lines = append(lines, q[0]+","+l)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestNSInstancesListsOwners: what an orchestrator's start-up sweep reads to
// find NB rows no NS record owns.
func TestNSInstancesListsOwners(t *testing.T) {
	t.Parallel()
	env := ovntest.Start(t)
	c := dial(t, env)
	// Tagged with an NS but not by stitch: not an owner.
	env.NBCtl(t, "ls-add", "other-sw", "--", "set", "Logical_Switch", "other-sw", "external_ids:stitch.ns-instance=feedfacecafe-0000")
	render(t, c, nsB, twoSwitch())
	render(t, c, nsA, twoSwitch())
	owners := func() []string {
		got, err := c.NSInstances(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	want := []string{nsA, nsB}
	slices.Sort(want)
	if got := owners(); !slices.Equal(got, want) {
		t.Fatalf("NSInstances = %v, want %v", got, want)
	}
	if _, err := c.Remove(t.Context(), nsA); err != nil {
		t.Fatal(err)
	}
	if got := owners(); !slices.Equal(got, []string{nsB}) {
		t.Fatalf("after Remove(A): %v, want only B", got)
	}
}

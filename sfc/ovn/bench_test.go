package ovn_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/sfc/ovn"
	"github.com/stitchnfv/stitch/sfc/ovntest"
)

// benchCount is the number of NS instances the benchmark renders.
const benchCount = 1000

// benchNS is one NS instance of the benchmark: 2 switches, 4 ports, 1 port
// group and 2 ACLs (one allow, the default drop).
func benchNS(i int) (string, ovn.Network) {
	id := fmt.Sprintf("%08x-%04x-4000-8000-000000000000", i, i>>16)
	port := func(name string, net, host int) ovn.Port {
		return ovn.Port{Name: name, MAC: fmt.Sprintf("0a:%02x:%02x:00:%02x:%02x", i>>8&0xff, i&0xff, net, host),
			IPs: []netip.Addr{netip.AddrFrom4([4]byte{10, byte(net), 0, byte(host)})}}
	}
	return id, ovn.Network{
		Switches: []ovn.Switch{
			{Name: "front", CIDR: netip.MustParsePrefix("10.1.0.0/24"), Ports: []ovn.Port{port("client", 1, 10), port("web0", 1, 20)}},
			{Name: "back", CIDR: netip.MustParsePrefix("10.2.0.0/24"), Ports: []ovn.Port{port("web0-back", 2, 20), port("db0", 2, 30)}},
		},
		PortGroups: []ovn.PortGroup{{Name: "web", Ports: []string{"web0"}, Allow: []ovn.Rule{{Protocol: "tcp", Port: 8080}}}},
	}
}

// nbctlCommands is the same NS as ovn-nbctl commands, one slice per NB
// object (each with the same tags stitch writes, except on ACLs, which
// acl-add cannot tag).
func nbctlCommands(id string, want ovn.Network) [][]string {
	p := strings.ReplaceAll(id, "-", "")[:12]
	tags := func(object string) []string {
		return []string{"external_ids:stitch.owner=stitch", "external_ids:stitch.ns-instance=" + id, "external_ids:stitch.object=" + object}
	}
	var objs [][]string
	for _, sw := range want.Switches {
		name := p + "-" + sw.Name
		objs = append(objs, append([]string{"ls-add", name, "--", "set", "Logical_Switch", name, "other_config:subnet=" + sw.CIDR.String()}, tags("switch/"+sw.Name)...))
		for _, port := range sw.Ports {
			lsp := p + "-" + port.Name
			addr := port.MAC + " " + port.IPs[0].String()
			objs = append(objs, append([]string{"lsp-add", name, lsp, "--", "lsp-set-addresses", lsp, addr,
				"--", "lsp-set-port-security", lsp, addr, "--", "set", "Logical_Switch_Port", lsp}, tags("port/"+port.Name)...))
		}
	}
	for _, g := range want.PortGroups {
		pg := "pg_" + p + "_" + g.Name
		objs = append(objs, append([]string{"pg-add", pg, p + "-" + g.Ports[0], "--", "set", "Port_Group", pg}, tags("group/"+g.Name)...))
		for _, r := range g.Allow {
			objs = append(objs, []string{"acl-add", pg, "to-lport", "2000", fmt.Sprintf("outport == @%s && ip4 && %s.dst == %d", pg, r.Protocol, r.Port), "allow-related"})
		}
		objs = append(objs, []string{"acl-add", pg, "to-lport", "1000", "outport == @" + pg + " && ip", "drop"})
	}
	return objs
}

// BenchmarkRender1000 renders 1,000 NS instances through the renderer and
// creates the same rows with ovn-nbctl, one call per NS (commands chained
// with --) and one call per object, each into a fresh NB, and reports the
// wall-clock seconds of each and the ratios. It takes minutes; run it with
// -run '^$' -bench Render1000 -benchtime 1x.
func BenchmarkRender1000(b *testing.B) {
	ctx := context.Background()
	rows := map[string]int{"Logical_Switch": 2 * benchCount, "Logical_Switch_Port": 4 * benchCount, "Port_Group": benchCount, "ACL": 2 * benchCount}
	var lib, chained, perObject time.Duration
	for b.Loop() {
		lib, _ = timedRows(b, rows, renderEach(ctx, b, benchCount, benchNS))
		chained, _ = timedRows(b, rows, nbctlEach(ctx, b, benchCount, func(i int) [][]string { return nbctlCommands(benchNS(i)) }))
		perObject, _ = timedRows(b, rows, func(env *ovntest.Env) {
			for i := range benchCount {
				for _, obj := range nbctlCommands(benchNS(i)) {
					if _, err := env.Ctl(ctx, "ovn-nbctl", append([]string{"--db=" + env.NB()}, obj...)...); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
	b.ReportMetric(lib.Seconds(), "libovsdb-s")
	b.ReportMetric(chained.Seconds(), "nbctl-per-ns-s")
	b.ReportMetric(perObject.Seconds(), "nbctl-per-object-s")
	b.ReportMetric(chained.Seconds()/lib.Seconds(), "x-faster-than-per-ns")
	b.ReportMetric(perObject.Seconds()/lib.Seconds(), "x-faster-than-per-object")
}

// timedRows runs fill against a fresh NB (started outside the timing),
// checks that it produced the expected number of rows per table, so every
// contender did the same work, and returns the time fill took and the NB.
func timedRows(b *testing.B, rows map[string]int, fill func(*ovntest.Env)) (time.Duration, *ovntest.Env) {
	b.Helper()
	env := ovntest.Start(b)
	start := time.Now()
	fill(env)
	d := time.Since(start)
	for table, want := range rows {
		if got := len(strings.Fields(env.NBCtl(b, "--bare", "--columns=_uuid", "list", table))); got != want {
			b.Fatalf("%s has %d rows, want %d", table, got, want)
		}
	}
	return d, env
}

// renderEach is a contender rendering count NS instances, one Render each.
func renderEach(ctx context.Context, b *testing.B, count int, ns func(int) (string, ovn.Network)) func(*ovntest.Env) {
	return func(env *ovntest.Env) {
		c, err := ovn.Dial(ctx, env.NB(), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		for i := range count {
			id, want := ns(i)
			if _, err := c.Render(ctx, id, want); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// nbctlEach is a contender creating count NS instances with one ovn-nbctl
// call each, its commands chained with "--".
func nbctlEach(ctx context.Context, b *testing.B, count int, cmds func(int) [][]string) func(*ovntest.Env) {
	return func(env *ovntest.Env) {
		for i := range count {
			args := []string{"--db=" + env.NB()}
			for j, obj := range cmds(i) {
				if j > 0 {
					args = append(args, "--")
				}
				args = append(args, obj...)
			}
			if _, err := env.Ctl(ctx, "ovn-nbctl", args...); err != nil {
				b.Fatal(err)
			}
		}
	}
}

package lab

import (
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, src string, env map[string]string) *Topology {
	t.Helper()
	topo, err := Parse([]byte(src), env)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return topo
}

func node(t *testing.T, topo *Topology, name string) Node {
	t.Helper()
	n, ok := topo.Node(name)
	if !ok {
		t.Fatalf("no node %q", name)
	}
	return n
}

// The shapes below follow containerlab's own examples and documentation.
func TestParseInheritance(t *testing.T) {
	src := `
name: inherit
topology:
  defaults:
    kind: linux
    image: alpine:3
    env: {A: defaults, B: defaults, C: defaults, D: defaults}
    labels: {tier: defaults}
    binds: ["/d:/shared", "/d2:/only-defaults:ro"]
    exec: ["echo defaults"]
  kinds:
    linux:
      image: debian:12
      env: {B: kind, C: kind, D: kind}
      binds: ["/k:/shared"]
    nokia_srlinux:
      image: ghcr.io/nokia/srlinux
      type: ixr-d2l
  groups:
    spines:
      kind: nokia_srlinux
      env: {C: group, D: group}
      labels: {tier: spine}
      exec: ["echo group"]
    leaves:
      image: leaf:1
      binds: ["/g:/shared"]
  nodes:
    plain: {}
    spine1:
      group: spines
      env: {D: node}
      cmd: sleep 1
    leaf1:
      group: leaves
      binds: ["/n:/node"]
      exec: ["echo node"]
      labels: {tier: leaf, stitch.site: edge}
      mgmt-ipv4: 172.20.20.11
`
	topo := mustParse(t, src, nil)
	tests := []struct {
		node string
		want Node
	}{
		{"plain", Node{Name: "plain", Kind: "linux", Image: "debian:12",
			Env:    map[string]string{"A": "defaults", "B": "kind", "C": "kind", "D": "kind"},
			Labels: map[string]string{"tier": "defaults"},
			Binds:  []string{"/d2:/only-defaults:ro", "/k:/shared"},
			Exec:   []string{"echo defaults"}}},
		{"spine1", Node{Name: "spine1", Kind: "nokia_srlinux", Group: "spines", Type: "ixr-d2l", Image: "ghcr.io/nokia/srlinux", Cmd: "sleep 1",
			Env:    map[string]string{"A": "defaults", "B": "defaults", "C": "group", "D": "node"},
			Labels: map[string]string{"tier": "spine"},
			Binds:  []string{"/d2:/only-defaults:ro", "/d:/shared"},
			Exec:   []string{"echo group"}}},
		{"leaf1", Node{Name: "leaf1", Kind: "linux", Group: "leaves", Image: "leaf:1",
			Env:      map[string]string{"A": "defaults", "B": "kind", "C": "kind", "D": "kind"},
			Labels:   map[string]string{"tier": "leaf", "stitch.site": "edge"},
			Binds:    []string{"/n:/node", "/d2:/only-defaults:ro", "/g:/shared"},
			Exec:     []string{"echo node"},
			MgmtIPv4: netip.MustParseAddr("172.20.20.11"), Site: "edge"}},
	}
	for _, tt := range tests {
		t.Run(tt.node, func(t *testing.T) {
			got := node(t, topo, tt.node)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("node %s:\n got %+v\nwant %+v", tt.node, got, tt.want)
			}
		})
	}
	if !slices.IsSortedFunc(topo.Nodes, func(a, b Node) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("nodes not sorted: %v", topo.Nodes)
	}
}

func TestParseLinks(t *testing.T) {
	src := `
name: links
prefix: ""
mgmt:
  network: custom
  ipv4-subnet: 172.100.100.0/24
topology:
  defaults: {kind: linux}
  nodes:
    a: {mgmt-ipv4: 172.100.100.2}
    b: {}
    br: {kind: bridge}
  links:
    - endpoints: ["a:eth1", "b:eth1"]
    - type: veth
      mtu: 9000
      endpoints:
        - node: a
          interface: eth2
          mac: 02:00:00:00:00:0a
        - {node: b, interface: eth2}
      vars:
        stitch.wan.delay: 20ms
        stitch.wan.jitter: 2ms
        other: {nested: true}
      labels:
        stitch.wan.loss: 0.1%
        stitch.wan.rate: 100mbit
    - endpoints: ["a:eth3", "a:eth4"]
    - endpoints: ["br:p1", "b:eth3"]
`
	topo := mustParse(t, src, nil)
	if topo.Prefix != "" || topo.MgmtIPv4Subnet != netip.MustParsePrefix("172.100.100.0/24") {
		t.Errorf("prefix %q subnet %v", topo.Prefix, topo.MgmtIPv4Subnet)
	}
	if len(topo.Links) != 4 {
		t.Fatalf("links: %d, want 4", len(topo.Links))
	}
	l0, l1 := topo.Links[0], topo.Links[1]
	if l0.A.String() != "a:eth1" || l0.B.String() != "b:eth1" || !l0.WAN.IsZero() {
		t.Errorf("short link: %+v", l0)
	}
	if l1.A.String() != "a:eth2" || l1.B.String() != "b:eth2" || l1.MTU != 9000 || l1.Index != 1 {
		t.Errorf("extended link: %+v", l1)
	}
	if l1.A.MAC.String() != "02:00:00:00:00:0a" || l1.B.MAC != nil {
		t.Errorf("macs: %v %v", l1.A.MAC, l1.B.MAC)
	}
	want := Impairment{Delay: 20 * time.Millisecond, Jitter: 2 * time.Millisecond, LossPercent: 0.1, RateBits: 100e6}
	if l1.WAN != want {
		t.Errorf("WAN %+v, want %+v", l1.WAN, want)
	}
	if !l1.WAN.NeedsNetem() || (Impairment{RateBits: 1}).NeedsNetem() {
		t.Errorf("NeedsNetem wrong")
	}
}

func TestParseEnvSubstitution(t *testing.T) {
	src := `
name: ${LAB:=envlab}
topology:
  nodes:
    n1:
      kind: ${KIND}
      image: ${IMAGE:=alpine:3}
      cmd: ${EMPTY:-fallback}
      env: {SET_EMPTY: "${EMPTY=unused}", UNSET: "x${NOPE}y"}
      exec: ["echo $HOME $${LITERAL}"]
`
	tests := []struct {
		name      string
		env       map[string]string
		wantName  string
		wantImage string
	}{
		{"defaults", map[string]string{"KIND": "linux", "EMPTY": ""}, "envlab", "alpine:3"},
		{"set", map[string]string{"KIND": "linux", "EMPTY": "", "LAB": "mine", "IMAGE": "deb"}, "mine", "deb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo := mustParse(t, src, tt.env)
			n := node(t, topo, "n1")
			if topo.Name != tt.wantName || n.Kind != "linux" || n.Cmd != "fallback" {
				t.Errorf("name %q kind %q cmd %q", topo.Name, n.Kind, n.Cmd)
			}
			if n.Env["SET_EMPTY"] != "" || n.Env["UNSET"] != "xy" {
				t.Errorf("env %v", n.Env)
			}
			if n.Exec[0] != "echo $HOME ${LITERAL}" {
				t.Errorf("exec %q", n.Exec[0])
			}
			if n.Image != tt.wantImage {
				t.Errorf("image %q, want %q", n.Image, tt.wantImage)
			}
		})
	}
}

func TestSubstituteEnv(t *testing.T) {
	env := map[string]string{"A": "a", "E": ""}
	tests := []struct{ in, want string }{
		{"${A}", "a"},
		{"${A:=x}", "a"},
		{"${E:=x}", "x"},
		{"${E=x}", ""},
		{"${U=x}", "x"},
		{"${U-x}", "x"},
		{"${E:-x}", "x"},
		{"${U}", ""},
		{"$A ${A}", "$A a"},
		{"$${A}", "${A}"},
		{"pre${A}post${U:=d}", "preapostd"},
	}
	for _, tt := range tests {
		got, err := substituteEnv(tt.in, env)
		if err != nil || got != tt.want {
			t.Errorf("substituteEnv(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"${A", "${1X}", "${}", "${A?x}"} {
		if _, err := substituteEnv(bad, env); err == nil {
			t.Errorf("substituteEnv(%q): no error", bad)
		}
	}
}

func TestParseLabFiles(t *testing.T) {
	two, err := ParseFile("two-site.clab.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	sites := map[string]string{}
	for _, n := range two.Nodes {
		sites[n.Name] = n.Site
	}
	if !reflect.DeepEqual(sites, map[string]string{"edge": "edge", "core": "core", "client": "edge"}) {
		t.Errorf("two-site sites: %v", sites)
	}
	var wan *Link
	for i, l := range two.Links {
		if l.A.Node == "edge" && l.B.Node == "core" {
			wan = &two.Links[i]
		}
	}
	if wan == nil || wan.WAN.Delay != 20*time.Millisecond {
		t.Fatalf("two-site WAN link: %+v", wan)
	}
	if err := checkRealisable(two); err != nil {
		t.Errorf("two-site not realisable: %v", err)
	}
	want := []SiteNode{
		{Site: "edge", Node: "edge", NetNS: NetNSName(two, "edge"), EncapIP: netip.MustParseAddr("10.99.0.1")},
		{Site: "core", Node: "core", NetNS: NetNSName(two, "core"), EncapIP: netip.MustParseAddr("10.99.0.2")},
	}
	got := two.SiteNodes()
	slices.SortFunc(got, func(a, b SiteNode) int { return -strings.Compare(a.Site, b.Site) })
	if !reflect.DeepEqual(got, want) {
		t.Errorf("two-site chassis nodes: %+v, want %+v", got, want)
	}

	three, err := ParseFile("three-domain.clab.yml", map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if len(three.Nodes) != 3 || len(three.Links) != 3 {
		t.Fatalf("three-domain: %d nodes %d links", len(three.Nodes), len(three.Links))
	}
	for _, n := range three.Nodes {
		if n.Site != n.Name || n.Env["STITCH_ROLE"] != "domain-orchestrator" || n.Env["STITCH_DOMAIN"] != n.Name {
			t.Errorf("three-domain node %+v", n)
		}
	}
	if err := checkRealisable(three); err != nil {
		t.Errorf("three-domain not realisable: %v", err)
	}
}

func TestParseWANValues(t *testing.T) {
	good := []struct {
		rate string
		bits uint64
	}{{"100mbit", 100e6}, {"1gbit", 1e9}, {"64kbit", 64e3}, {"1mbps", 8e6}, {"1mibit", 1 << 20}, {"8bit", 8}}
	for _, g := range good {
		got, err := parseRate(g.rate)
		if err != nil || got != g.bits {
			t.Errorf("parseRate(%q) = %d, %v; want %d", g.rate, got, err, g.bits)
		}
	}
	for _, bad := range []string{"100", "fast", "-1mbit", "mbit", "NaNmbit", "1bit"} {
		if _, err := parseRate(bad); err == nil {
			t.Errorf("parseRate(%q): no error", bad)
		}
	}
	for _, s := range []string{"0.1%", "0.1", "100%", "0"} {
		if _, err := parsePercent(s); err != nil {
			t.Errorf("parsePercent(%q): %v", s, err)
		}
	}
	for _, s := range []string{"101%", "-1%", "lots", "NaN"} {
		if _, err := parsePercent(s); err == nil {
			t.Errorf("parsePercent(%q): no error", s)
		}
	}
}

func TestValidationErrors(t *testing.T) {
	const head = "name: bad\ntopology:\n  defaults: {kind: linux}\n  nodes:\n    a: {}\n    b: {}\n"
	tests := []struct {
		name      string
		src       string
		wantPaths []string // each must appear, with its message part
	}{
		{"unknown node", head + "  links:\n    - endpoints: [\"a:eth1\", \"zz:eth1\"]\n",
			[]string{`topology.links[0].endpoints[1]: unknown node "zz"`}},
		{"malformed endpoint", head + "  links:\n    - endpoints: [\"a\", \"b:eth1\"]\n",
			[]string{`topology.links[0].endpoints[0]: "a" is not node:interface`}},
		{"no interface", head + "  links:\n    - endpoints: [\"a:\", \"b:eth1\"]\n",
			[]string{`topology.links[0].endpoints[0]: endpoint has no interface`}},
		{"one endpoint", head + "  links:\n    - endpoints: [\"a:eth1\"]\n",
			[]string{`topology.links[0].endpoints: a link needs exactly 2 endpoints`}},
		{"interface twice", head + "  links:\n    - endpoints: [\"a:eth1\", \"b:eth1\"]\n    - endpoints: [\"a:eth1\", \"b:eth2\"]\n",
			[]string{`topology.links[1].endpoints[0]: interface a:eth1 is already used by topology.links[0].endpoints[0]`}},
		{"self link", head + "  links:\n    - endpoints: [\"a:eth1\", \"a:eth1\"]\n",
			[]string{`topology.links[0]: link connects a:eth1 to itself`}},
		{"duplicate node", "name: bad\ntopology:\n  nodes:\n    a: {kind: linux}\n    a: {kind: linux}\n",
			[]string{`topology.nodes.a: duplicate node name`}},
		{"no kind", "name: bad\ntopology:\n  nodes:\n    a: {}\n",
			[]string{`topology.nodes.a.kind: no kind`}},
		{"bad mgmt ip", "name: bad\ntopology:\n  nodes:\n    a: {kind: linux, mgmt-ipv4: 10.0.0.300}\n    b: {kind: linux, mgmt-ipv4: \"2001:db8::1\"}\n",
			[]string{`topology.nodes.a.mgmt-ipv4: "10.0.0.300" is not an IPv4 address`, `topology.nodes.b.mgmt-ipv4`}},
		{"mgmt ip outside subnet", "name: bad\nmgmt: {ipv4-subnet: 10.1.0.0/24}\ntopology:\n  nodes:\n    a: {kind: linux, mgmt-ipv4: 10.2.0.1}\n",
			[]string{`topology.nodes.a.mgmt-ipv4: 10.2.0.1 is outside mgmt.ipv4-subnet 10.1.0.0/24`}},
		{"bad encap ip", "name: bad\ntopology:\n  nodes:\n    a: {kind: linux, labels: {stitch.site: s, stitch.encap-ip: 10.0.0}}\n",
			[]string{`topology.nodes.a.labels.stitch.encap-ip: "10.0.0" is not an IPv4 address`}},
		{"chassis without site", "name: bad\ntopology:\n  nodes:\n    a: {kind: linux, labels: {stitch.encap-ip: 10.0.0.1}}\n",
			[]string{`topology.nodes.a.labels.stitch.encap-ip: a chassis node needs a stitch.site label too`}},
		{"two chassis for a site", "name: bad\ntopology:\n  nodes:\n    a: {kind: linux, labels: {stitch.site: s, stitch.encap-ip: 10.0.0.1}}\n    b: {kind: linux, labels: {stitch.site: s, stitch.encap-ip: 10.0.0.2}}\n",
			[]string{`labels.stitch.encap-ip: site s already has its chassis on node`}},
		{"bad prefix", "name: p\nprefix: ../x\ntopology:\n  nodes:\n    a: {kind: linux}\n", []string{`prefix: "../x"`}},
		{"no name", "topology:\n  nodes:\n    a: {kind: linux}\n", []string{`name: ""`}},
		{"no nodes", "name: empty\ntopology: {}\n", []string{`topology.nodes: a lab needs at least one node`}},
		{"bad bind", "name: bad\ntopology:\n  nodes:\n    a: {kind: linux, binds: [\"/only\"]}\n", []string{`topology.nodes.a.binds[0]`}},
		{"bad wan", head + "  links:\n    - endpoints: [\"a:eth1\", \"b:eth1\"]\n      labels: {stitch.wan.delay: soon, stitch.wan.loss: 200%, stitch.wan.rate: \"100\", stitch.wan.typo: x}\n",
			[]string{`topology.links[0].stitch.wan.delay: "soon" is not a duration`, `stitch.wan.loss: "200%" is outside`, `stitch.wan.rate: "100" is not a rate`, `topology.links[0].labels.stitch.wan.typo: unknown stitch label`}},
		{"jitter without delay", head + "  links:\n    - endpoints: [\"a:eth1\", \"b:eth1\"]\n      vars: {stitch.wan.jitter: 1ms}\n",
			[]string{`stitch.wan.jitter: jitter needs a delay`}},
		{"labels and vars disagree", head + "  links:\n    - endpoints: [\"a:eth1\", \"b:eth1\"]\n      labels: {stitch.wan.delay: 1ms}\n      vars: {stitch.wan.delay: 2ms}\n",
			[]string{`topology.links[0].vars.stitch.wan.delay: "2ms" disagrees`}},
		{"bad site", "name: bad\ntopology:\n  nodes:\n    a: {kind: linux, labels: {stitch.site: \"no spaces\"}}\n",
			[]string{`topology.nodes.a.labels.stitch.site`}},
		{"bad mac and mtu", head + "  links:\n    - type: veth\n      mtu: 10\n      endpoints: [{node: a, interface: e1, mac: zz}, {node: b, interface: e1}]\n",
			[]string{`topology.links[0].endpoints[0].mac`}},
		{"mtu", head + "  links:\n    - mtu: 10\n      endpoints: [\"a:e1\", \"b:e1\"]\n",
			[]string{`topology.links[0].mtu: 10 is outside`}},
		{"link type", head + "  links:\n    - type: macvlan\n      endpoint: {node: a, interface: e1}\n",
			[]string{`topology.links[0].type: link type "macvlan" is not supported`}},
		{"bad env ref", "name: ${1}\n", []string{`(file)`}},
		{"not yaml", "name: [\n", []string{`(file)`}},
		{"several at once", head + "  links:\n    - endpoints: [\"a:eth1\", \"x:eth1\"]\n    - endpoints: [\"b\", \"y:eth1\"]\n",
			[]string{`topology.links[0].endpoints[1]: unknown node "x"`, `topology.links[1].endpoints[0]`, `topology.links[1].endpoints[1]: unknown node "y"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo, err := Parse([]byte(tt.src), nil)
			if err == nil {
				t.Fatalf("no error; parsed %+v", topo)
			}
			if !errors.Is(err, ErrInvalid) || topo != nil {
				t.Errorf("err %v is not ErrInvalid (or topology returned)", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("not a *ValidationError: %T", err)
			}
			for _, want := range tt.wantPaths {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not mention %q", err, want)
				}
			}
		})
	}
}

func TestCheckRealisable(t *testing.T) {
	src := `
name: kinds
topology:
  nodes:
    srl: {kind: nokia_srlinux}
    ceos: {kind: arista_ceos}
    l: {kind: linux}
  links:
    - endpoints: ["srl:ethernet-1/1", "l:eth1"]
    - endpoints: ["l:averyveryverylongname", "ceos:eth1"]
`
	topo := mustParse(t, src, nil) // other kinds parse
	err := checkRealisable(topo)
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err %v, want ErrUnsupported", err)
	}
	for _, want := range []string{
		`topology.nodes.srl.kind: kind "nokia_srlinux" cannot be realised`,
		`topology.nodes.ceos.kind`,
		`topology.links[0].endpoints[0]: interface "ethernet-1/1"`,
		`topology.links[1].endpoints[0]: interface "averyveryverylongname": longer than 15 bytes`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q\ndoes not mention %q", err, want)
		}
	}
}

func TestCheckRealisableHandBuilt(t *testing.T) {
	topo := &Topology{Name: "../escape", Prefix: "a/b",
		Nodes: []Node{{Name: "x/y", Kind: KindLinux}},
		Links: []Link{{A: Endpoint{Node: "x/y", Interface: "e1"}, B: Endpoint{Node: "ghost", Interface: "e1"}}}}
	err := checkRealisable(topo)
	for _, want := range []string{`name: "../escape"`, `prefix: "a/b"`, `topology.nodes.x/y`, `unknown node "ghost"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}

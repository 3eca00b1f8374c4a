package config

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.VIM.Sites) != 2 || c.VIM.Sites[0].Name != "edge" || c.VIM.Sites[1].Name != "core" {
		t.Fatalf("default sites = %+v, want edge and core", c.VIM.Sites)
	}
}

func TestParseOverlaysDefaults(t *testing.T) {
	c, err := Parse([]byte("listen: 127.0.0.1:9999\nhealth-timeout: 5s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9999" || time.Duration(c.HealthTimeout) != 5*time.Second {
		t.Fatalf("overrides not applied: %+v", c)
	}
	if c.StateDir != Default().StateDir || len(c.VIM.Sites) != 2 {
		t.Fatalf("defaults lost: %+v", c)
	}
}

func TestParseOVNFabric(t *testing.T) {
	c, err := Parse([]byte("network: {fabric: ovn, ovn: {northbound: 'tcp:127.0.0.1:6641', southbound: 'unix:/run/ovn/sb.sock'}}\n" +
		"vim: {type: local, sites: [{name: edge, netns: clab-two-site-edge, encap-ip: 10.99.0.1}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Network.Fabric != FabricOVN || c.Network.OVN.Embedded() || c.VIM.Sites[0].EncapIP != "10.99.0.1" {
		t.Fatalf("parsed %+v", c)
	}
	if !Default().Network.OVN.Embedded() {
		t.Fatal("the default OVN central should be embedded")
	}
	if r := Default().ServiceRouter; !r.Enabled(FabricOVN) || r.Enabled(FabricBridge) || r.Program != "stitch-router" {
		t.Fatalf("default service router %+v: want on for OVN, off for bridges", r)
	}
}

func TestParseRejects(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown field":  {"lisen: x\n", "lisen"},
		"bad site name":  {"vim: {type: local, sites: [{name: Edge-1}]}\n", "vim.sites[0].name"},
		"duplicate site": {"vim: {type: local, sites: [{name: a}, {name: a}]}\n", "duplicate site"},
		"unknown vim":    {"vim: {type: openstack}\n", "vim.type"},
		"bad duration":   {"health-timeout: soon\n", "duration"},
		"negative":       {"vim: {type: local, sites: [{name: a, capacity: {vcpu: -1}}]}\n", "negative"},
		"bad log level":  {"log-level: loud\n", "log-level"},
		"unknown fabric": {"network: {fabric: vxlan}\n", "network.fabric"},
		"half central":   {"network: {fabric: ovn, ovn: {northbound: 'tcp:127.0.0.1:6641'}}\n", "both northbound and southbound"},
		"bad remote":     {"network: {fabric: ovn, ovn: {northbound: 'http://x', southbound: 'tcp:127.0.0.1:6642'}}\n", "network.ovn.northbound"},
		"bad underlay":   {"network: {fabric: ovn, ovn: {underlay: 100.64.0.0/30}}\n", "network.ovn.underlay"},
		"netns alone":    {"network: {fabric: ovn}\nvim: {type: local, sites: [{name: a, netns: lab-a}]}\n", "netns and encap-ip"},
		"bad encap ip":   {"vim: {type: local, sites: [{name: a, netns: lab-a, encap-ip: 10.0.0}]}\n", "encap-ip"},
		"router mode":    {"service-router: {mode: ebpf}\n", "service-router.mode"},
		"router memory":  {"service-router: {memory-mb: -1}\n", "service-router.memory-mb"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

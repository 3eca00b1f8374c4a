package ovn

import (
	"net/netip"
	"strings"
	"testing"
)

func TestNSPrefix(t *testing.T) {
	for id, want := range map[string]string{
		"0A1B2C3D-4E5F-4a6b-8c7d-0e1f2a3b4c5d": "0a1b2c3d4e5f",
		"0123456789abcdef":                     "0123456789ab",
	} {
		if got, err := nsPrefix(id); err != nil || got != want {
			t.Errorf("nsPrefix(%q) = %q, %v; want %q", id, got, err, want)
		}
	}
	for _, id := range []string{"", "abc", "ns-web-1", "0a1b2c3d4e5f/x"} {
		if _, err := nsPrefix(id); err == nil {
			t.Errorf("nsPrefix(%q) accepted", id)
		}
	}
}

func TestValidateNamesFieldPaths(t *testing.T) {
	ip := netip.MustParseAddr("10.0.0.5")
	cidr := netip.MustParsePrefix("10.0.0.0/24")
	for _, tc := range []struct {
		want string
		net  Network
	}{
		{"switches[0].name", Network{Switches: []Switch{{Name: "", CIDR: cidr}}}},
		{"switches[1].name: duplicate", Network{Switches: []Switch{{Name: "a", CIDR: cidr}, {Name: "a", CIDR: cidr}}}},
		{"switches[0].cidr", Network{Switches: []Switch{{Name: "a"}}}},
		{"switches[0].ports[0].mac", Network{Switches: []Switch{{Name: "a", CIDR: cidr, Ports: []Port{{Name: "p", MAC: "zz", IPs: []netip.Addr{ip}}}}}}},
		{"switches[0].ports[0].ips", Network{Switches: []Switch{{Name: "a", CIDR: cidr, Ports: []Port{{Name: "p", MAC: "0a:00:00:00:00:01"}}}}}},
		{"portGroups[1].name", Network{PortGroups: []PortGroup{{Name: "web-a"}, {Name: "web_a"}}}},
		{"portGroups[0].allow[0].protocol", Network{PortGroups: []PortGroup{{Name: "g", Allow: []Rule{{Protocol: "sctp", Port: 1}}}}}},
		{"portGroups[0].allow[0].port", Network{PortGroups: []PortGroup{{Name: "g", Allow: []Rule{{Protocol: "icmp", Port: 1}}}}}},
	} {
		err := tc.net.validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("validate() = %v, want an error naming %q", err, tc.want)
		}
	}
}

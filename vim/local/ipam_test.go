package local

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/vim"
)

func TestIPAMLowestFree(t *testing.T) {
	p, err := parseCIDR("10.0.0.0/29") // hosts .1-.6
	if err != nil {
		t.Fatal(err)
	}
	a, err := newIPAM(p, 2) // .1 and .2 belong to the sites
	if err != nil {
		t.Fatal(err)
	}
	if got := a.siteAddr(1); got.String() != "10.0.0.2" {
		t.Fatalf("site 1 address %s", got)
	}
	alloc := func(want string) {
		t.Helper()
		ip, err := a.allocate()
		if err != nil || ip.String() != want {
			t.Fatalf("allocate = %s, %v; want %s", ip, err, want)
		}
	}
	if err := a.claim(netip.MustParseAddr("10.0.0.4")); err != nil {
		t.Fatal(err)
	}
	alloc("10.0.0.3")
	alloc("10.0.0.5") // .4 is taken explicitly
	a.release(netip.MustParseAddr("10.0.0.3"))
	a.release(netip.MustParseAddr("10.0.0.4"))
	alloc("10.0.0.3")
	if err := a.claim(netip.MustParseAddr("10.0.0.4")); err != nil { // freed, then taken explicitly
		t.Fatal(err)
	}
	alloc("10.0.0.6")
	if _, err := a.allocate(); !errors.Is(err, vim.ErrNoCapacity) {
		t.Fatalf("full subnet: %v", err)
	}
	a.release(netip.MustParseAddr("10.0.0.5"))
	alloc("10.0.0.5")

	for ip, why := range map[string]string{
		"10.0.0.0": "network", "10.0.0.7": "broadcast", "10.0.0.1": "site",
		"10.0.1.3": "outside", "10.0.0.6": "taken",
	} {
		if err := a.claim(netip.MustParseAddr(ip)); !errors.Is(err, vim.ErrInvalid) {
			t.Errorf("claim %s (%s) = %v, want ErrInvalid", ip, why, err)
		}
	}
	if a.inUse() != 4 {
		t.Fatalf("in use %d", a.inUse())
	}
}

func TestParseCIDR(t *testing.T) {
	if p, err := parseCIDR("10.1.2.3/24"); err != nil || p.String() != "10.1.2.0/24" {
		t.Fatalf("parseCIDR = %v, %v", p, err)
	}
	for _, bad := range []string{"fd00::/64", "10.0.0.0/31", "nonsense", ""} {
		if _, err := parseCIDR(bad); !errors.Is(err, vim.ErrInvalid) {
			t.Errorf("parseCIDR(%q) = %v", bad, err)
		}
	}
	if _, err := newIPAM(netip.MustParsePrefix("10.0.0.0/30"), 2); !errors.Is(err, vim.ErrInvalid) {
		t.Errorf("a /30 with two sites leaves no instance address: %v", err)
	}
}

func TestNames(t *testing.T) {
	for _, prefix := range []string{"s", "st", "abcd"} {
		for _, kind := range []byte("bwv") {
			n := ifName(prefix, kind, "some network or instance name", 0)
			if len(n) > 15 || !strings.HasPrefix(n, prefix+"-"+string(kind)) {
				t.Errorf("ifName(%q, %c) = %q", prefix, kind, n)
			}
			if n == ifName(prefix, kind, "some network or instance name", 1) {
				t.Errorf("salt does not change the name")
			}
		}
	}
	if got := aliasFor(vim.Tags{vim.TagNSInstance: "ns1"}, "fw-0"); got != "stitch:ns1:fw-0" {
		t.Errorf("alias = %q", got)
	}
	for _, bad := range []string{"", "a/b", "-x", ".", "..", strings.Repeat("x", 129), "a b"} {
		if validName("instance", bad) == nil {
			t.Errorf("validName(%q) accepted", bad)
		}
	}
	if err := validName("instance", "ns-1.fw_0"); err != nil {
		t.Error(err)
	}
}

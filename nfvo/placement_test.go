package nfvo

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/vim"
)

func loads(specs ...vim.Site) []siteLoad {
	out := make([]siteLoad, len(specs))
	for i, s := range specs {
		out[i] = siteLoad{site: s, used: s.Used}
	}
	return out
}

func site(name string, vcpu, usedVCPU int) vim.Site {
	return vim.Site{Name: name, Capacity: vim.Resources{VCPU: vcpu}, Used: vim.Resources{VCPU: usedVCPU}}
}

func TestPlace(t *testing.T) {
	tests := []struct {
		name      string
		sites     []siteLoad
		req       placementRequest
		want      string
		wantErr   string
		reasonHas []string
	}{
		{
			name:  "most free capacity wins",
			sites: loads(site("core", 8, 6), site("edge", 8, 1)),
			req:   placementRequest{profile: "web", vcpu: 1},
			want:  "edge", reasonHas: []string{"site edge", "score 0.75", "6/8 vCPU free"},
		},
		{
			name:  "allowed sites are honoured over capacity",
			sites: loads(site("core", 8, 6), site("edge", 8, 1)),
			req:   placementRequest{profile: "db", vcpu: 1, allowed: []string{"core"}},
			want:  "core", reasonHas: []string{"allowed [core]", "edge not in allowed sites"},
		},
		{
			name:  "a full site is skipped",
			sites: loads(site("core", 8, 8), site("edge", 2, 1)),
			req:   placementRequest{profile: "web", vcpu: 1},
			want:  "edge", reasonHas: []string{"core lacks capacity"},
		},
		{
			name:    "nothing fits",
			sites:   loads(site("core", 8, 8), site("edge", 2, 2)),
			req:     placementRequest{profile: "web", vcpu: 1},
			wantErr: "no site can host web",
		},
		{
			name:  "anti-affinity avoids member sites",
			sites: loads(site("core", 8, 0), site("edge", 8, 4)),
			req:   placementRequest{profile: "b", vcpu: 1, antiAffineSites: []string{"core"}},
			want:  "edge", reasonHas: []string{"core breaks anti-affinity"},
		},
		{
			name:  "affinity follows members",
			sites: loads(site("core", 8, 7), site("edge", 8, 0)),
			req:   placementRequest{profile: "b", vcpu: 1, affineSites: []string{"core"}},
			want:  "core",
		},
		{
			name:  "equal scores spread instances of one constituent",
			sites: loads(vim.Site{Name: "a"}, vim.Site{Name: "b"}),
			req:   placementRequest{profile: "web", peers: map[string]int{"a": 2, "b": 1}},
			want:  "b",
		},
		{
			name:  "then the name",
			sites: loads(vim.Site{Name: "edge"}, vim.Site{Name: "core"}),
			req:   placementRequest{profile: "web"},
			want:  "core",
		},
		{
			name:  "unlimited capacity scores 1",
			sites: loads(vim.Site{Name: "a"}),
			req:   placementRequest{profile: "web", vcpu: 64},
			want:  "a", reasonHas: []string{"score 1.00", "unlimited vCPU"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			i, reason, err := place(tc.sites, tc.req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrState) {
					t.Fatalf("err = %v, want ErrState mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.sites[i].site.Name; got != tc.want {
				t.Fatalf("placed on %s, want %s (reason %q)", got, tc.want, reason)
			}
			for _, s := range tc.reasonHas {
				if !strings.Contains(reason, s) {
					t.Errorf("reason %q lacks %q", reason, s)
				}
			}
		})
	}
}

func TestAllocateIP(t *testing.T) {
	ip, err := allocateIP("10.0.0.0/24", map[string]bool{"10.0.0.16": true})
	if err != nil || ip != "10.0.0.17" {
		t.Fatalf("got %s, %v; want 10.0.0.17 (first 15 hosts reserved, .16 used)", ip, err)
	}
	used := map[string]bool{}
	for i := 16; i < 255; i++ {
		used[fmt.Sprintf("10.0.0.%d", i)] = true
	}
	if _, err := allocateIP("10.0.0.0/24", used); !errors.Is(err, ErrState) {
		t.Fatalf("full link: err = %v, want ErrState (the broadcast address is never handed out)", err)
	}
	if _, err := allocateIP("not-a-cidr", nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad CIDR: err = %v, want ErrInvalid", err)
	}
	if ip, err := allocateIP("fd00::/64", nil); err != nil || ip != "fd00::10" {
		t.Fatalf("IPv6: got %s, %v; want fd00::10", ip, err)
	}
}

func TestHealTargets(t *testing.T) {
	vnfcs := []Vnfc{
		{ID: "a-0", Profile: "a", State: VnfcHealthy},
		{ID: "a-1", Profile: "a", State: VnfcFailed},
		{ID: "b-0", Profile: "b", State: VnfcHealthy},
	}
	tests := []struct {
		name    string
		req     HealRequest
		want    []string
		wantErr error
	}{
		{"named", HealRequest{VnfcIDs: []string{"b-0"}}, []string{"b-0"}, nil},
		{"unknown name", HealRequest{VnfcIDs: []string{"zz"}}, nil, ErrInvalid},
		{"failed of profile", HealRequest{VnfProfileID: "a"}, []string{"a-1"}, nil},
		{"whole profile when none failed", HealRequest{VnfProfileID: "b"}, []string{"b-0"}, nil},
		{"all failed", HealRequest{}, []string{"a-1"}, nil},
		{"unknown profile", HealRequest{VnfProfileID: "c"}, nil, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := healTargets(vnfcs, tc.req)
			if !errors.Is(err, tc.wantErr) || strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("got %v, %v; want %v, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
	if _, err := healTargets([]Vnfc{{ID: "x", State: VnfcHealthy}}, HealRequest{}); !errors.Is(err, ErrState) {
		t.Fatalf("nothing failed: err = %v, want ErrState", err)
	}
}

func TestVictims(t *testing.T) {
	mine := []Vnfc{
		{ID: "0", Index: 0, State: VnfcHealthy},
		{ID: "1", Index: 1, State: VnfcStarting},
		{ID: "2", Index: 2, State: VnfcHealthy},
		{ID: "3", Index: 3, State: VnfcHealthy},
	}
	for _, tc := range []struct {
		name  string
		inUse map[string]int
		want  string
	}{
		{"unhealthy, then newest", nil, "1,3"},
		{"unhealthy, then idlest", map[string]int{"0": 0, "2": 5, "3": 9}, "1,0"},
		{"idlest, ties to the newest", map[string]int{"0": 2, "2": 2, "3": 7}, "1,2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := victims(mine, 2, tc.inUse)
			if ids := got[0].ID + "," + got[1].ID; ids != tc.want {
				t.Fatalf("victims = %s, want %s", ids, tc.want)
			}
		})
	}
}

// TestVictimsConsolidate: a scale-in releases the site with the fewest
// instances first, even over an idler instance elsewhere, and never picks
// one twice.
func TestVictimsConsolidate(t *testing.T) {
	mine := []Vnfc{
		{ID: "a0", Index: 0, Site: "a", State: VnfcHealthy},
		{ID: "a1", Index: 1, Site: "a", State: VnfcHealthy},
		{ID: "a2", Index: 2, Site: "a", State: VnfcHealthy},
		{ID: "b3", Index: 3, Site: "b", State: VnfcHealthy},
		{ID: "c4", Index: 4, Site: "c", State: VnfcHealthy},
		{ID: "c5", Index: 5, Site: "c", State: VnfcHealthy},
	}
	inUse := map[string]int{"a0": 0, "a1": 0, "a2": 0, "b3": 4, "c4": 1, "c5": 2}
	var ids []string
	for _, v := range victims(mine, 4, inUse) {
		ids = append(ids, v.ID)
	}
	// b (one instance) goes first; then c (two): its idler one, then the
	// other, releasing c too; then a's newest idle one.
	if got := strings.Join(ids, ","); got != "b3,c4,c5,a2" {
		t.Fatalf("victims = %s, want b3,c4,c5,a2", got)
	}
}

package nfvo

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stitchnfv/stitch/vim"
)

// placementRequest is what one new instance needs from a site.
type placementRequest struct {
	profile  string
	vcpu     int
	memoryMB int
	// allowed sites; empty means any.
	allowed []string
	// affineSites: the instance must share a site with these placed members
	// of its affinity groups; antiAffineSites: it must avoid these sites.
	affineSites     []string
	antiAffineSites []string
	// peers counts instances of the same profile per site, to spread them.
	peers map[string]int
}

// siteLoad is a site with what is already used or planned on it.
type siteLoad struct {
	site vim.Site
	used vim.Resources
}

// place chooses a site for one instance and says why, in the manner of
// FUSION's ZoneEvaluate: every feasible site gets a capacity score in [0, 1]
// (the smallest free fraction of vCPU, memory and instance slots left after
// placing); the best score wins, then the site with fewer instances of the
// same constituent (spread), then the name. Affinity scopes are zones: on
// the local VIM a site is one host.
func place(sites []siteLoad, req placementRequest) (int, string, error) {
	best, bestScore := -1, -1.0
	var rejected []string
	for i, s := range sites {
		name := s.site.Name
		if len(req.allowed) > 0 && !slices.Contains(req.allowed, name) {
			rejected = append(rejected, name+" not in allowed sites")
			continue
		}
		if len(req.affineSites) > 0 && !slices.Contains(req.affineSites, name) {
			rejected = append(rejected, name+" breaks affinity")
			continue
		}
		if slices.Contains(req.antiAffineSites, name) {
			rejected = append(rejected, name+" breaks anti-affinity")
			continue
		}
		score, ok := capacityScore(s, req)
		if !ok {
			rejected = append(rejected, name+" lacks capacity")
			continue
		}
		if best < 0 || better(score, req.peers[name], name, bestScore, req.peers[sites[best].site.Name], sites[best].site.Name) {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return -1, "", fmt.Errorf("%w: no site can host %s (%s)", ErrState, req.profile, strings.Join(rejected, "; "))
	}
	s := sites[best]
	reason := fmt.Sprintf("site %s: score %.2f", s.site.Name, bestScore)
	if len(req.allowed) > 0 {
		reason += fmt.Sprintf(", allowed %v", req.allowed)
	}
	reason += fmt.Sprintf(", %s after placing", freeText(s, req))
	if len(rejected) > 0 {
		reason += "; rejected: " + strings.Join(rejected, ", ")
	}
	return best, reason, nil
}

// better orders candidate sites: higher score, then fewer instances of the
// constituent (spread), then the name.
func better(score float64, peers int, name string, bestScore float64, bestPeers int, bestName string) bool {
	if score != bestScore {
		return score > bestScore
	}
	if peers != bestPeers {
		return peers < bestPeers
	}
	return name < bestName
}

// capacityScore is the smallest free fraction left after placing; a zero
// capacity means unlimited.
func capacityScore(s siteLoad, req placementRequest) (float64, bool) {
	score := 1.0
	for _, d := range []struct{ capacity, used, need int }{
		{s.site.Capacity.VCPU, s.used.VCPU, req.vcpu},
		{s.site.Capacity.MemoryMB, s.used.MemoryMB, req.memoryMB},
		{s.site.Capacity.Instances, s.used.Instances, 1},
	} {
		if d.capacity <= 0 {
			continue
		}
		free := d.capacity - d.used - d.need
		if free < 0 {
			return 0, false
		}
		score = min(score, float64(free)/float64(d.capacity))
	}
	return score, true
}

func freeText(s siteLoad, req placementRequest) string {
	part := func(unit string, capacity, used, need int) string {
		if capacity <= 0 {
			return "unlimited " + unit
		}
		return fmt.Sprintf("%d/%d %s free", capacity-used-need, capacity, unit)
	}
	return strings.Join([]string{
		part("vCPU", s.site.Capacity.VCPU, s.used.VCPU, req.vcpu),
		part("MB", s.site.Capacity.MemoryMB, s.used.MemoryMB, req.memoryMB),
		part("instances", s.site.Capacity.Instances, s.used.Instances, 1),
	}, ", ")
}

package descriptors

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrDependencyCycle is wrapped by DeploymentOrder when depends-on loops.
var ErrDependencyCycle = errors.New("dependency cycle")

// DeploymentOrder groups the vnf-profile ids into layers by depends-on:
// layer 0 depends on nothing, and every profile comes in the layer after
// the last of its dependencies, so each layer can be deployed in parallel
// once the previous ones are healthy. Ids are sorted within a layer.
func (df *NSDeploymentFlavour) DeploymentOrder() ([][]string, error) {
	var ids []string
	known := map[string]bool{}
	for _, vp := range df.VnfProfiles {
		if !known[vp.ID] {
			known[vp.ID] = true
			ids = append(ids, vp.ID)
		}
	}
	deps := map[string][]string{}
	dependants := map[string][]string{}
	for _, vp := range df.VnfProfiles {
		for _, dep := range vp.DependsOn {
			if !known[dep] {
				return nil, fmt.Errorf("vnf-profile %q depends on vnf-profile %q: %w", vp.ID, dep, ErrNotFound)
			}
			if !slices.Contains(deps[vp.ID], dep) {
				deps[vp.ID] = append(deps[vp.ID], dep)
				dependants[dep] = append(dependants[dep], vp.ID)
			}
		}
	}

	waiting := map[string]int{} // dependencies not yet placed
	var layer []string
	for _, id := range ids {
		if waiting[id] = len(deps[id]); waiting[id] == 0 {
			layer = append(layer, id)
		}
	}
	layers := [][]string{}
	placed := 0
	for len(layer) > 0 {
		slices.Sort(layer)
		layers = append(layers, layer)
		placed += len(layer)
		var next []string
		for _, id := range layer {
			for _, d := range dependants[id] {
				if waiting[d]--; waiting[d] == 0 {
					next = append(next, d)
				}
			}
		}
		layer = next
	}
	if placed == len(ids) {
		return layers, nil
	}

	var stuck []string
	for _, id := range ids {
		if waiting[id] > 0 {
			stuck = append(stuck, id)
		}
	}
	slices.Sort(stuck)
	var names []string
	for _, c := range findCycles(stuck, deps) {
		names = append(names, formatCycle(c))
	}
	return nil, fmt.Errorf("%w: %s", ErrDependencyCycle, strings.Join(names, "; "))
}

// Dependants returns the ids of the vnf-profiles that depend directly on
// profileID, sorted: what must wait for it, or be revisited when it fails.
func (df *NSDeploymentFlavour) Dependants(profileID string) []string {
	var out []string
	for _, vp := range df.VnfProfiles {
		if slices.Contains(vp.DependsOn, profileID) && !slices.Contains(out, vp.ID) {
			out = append(out, vp.ID)
		}
	}
	slices.Sort(out)
	return out
}

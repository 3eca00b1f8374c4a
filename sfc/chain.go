// Package sfc turns an NSD's forwarding graphs into service chains: ordered
// network functions with a traffic classifier. Today the orchestrator uses
// the chains to tell each function where the next one is (the bindings of
// the local VIM's Linux-bridge links); an OVN renderer of the same chains
// belongs here too.
package sfc

import (
	"slices"

	"github.com/stitchnfv/stitch/descriptors"
)

// Hop is one network function of a chain.
type Hop struct {
	Profile    string // vnf-profile id
	IngressCpd string
	EgressCpd  string
}

// Chain is one network forwarding path (an NFP of a VNFFG).
type Chain struct {
	Graph string // vnffgd id
	Path  string // nfpd id
	Match descriptors.MatchAttributes
	Hops  []Hop
}

// Chains lists every forwarding path of the NSD with its hops in position
// order (positions with equal order keep their written order).
func Chains(nsd *descriptors.NSD) []Chain {
	var out []Chain
	for _, fg := range nsd.Vnffgds {
		for _, nfp := range fg.Nfpd {
			pos := slices.Clone(nfp.Positions)
			slices.SortStableFunc(pos, func(a, b descriptors.NfpPosition) int { return a.Order - b.Order })
			c := Chain{Graph: fg.ID, Path: nfp.ID, Match: nfp.MatchAttributes}
			for _, p := range pos {
				c.Hops = append(c.Hops, Hop{Profile: p.VnfProfileID, IngressCpd: p.IngressCpdID, EgressCpd: p.EgressCpdID})
			}
			out = append(out, c)
		}
	}
	return out
}

// Next returns the hop after profile in every chain it is part of (once per
// occurrence); a function at the end of its chains has none.
func Next(chains []Chain, profile string) []Hop {
	var out []Hop
	for _, c := range chains {
		for i := 0; i+1 < len(c.Hops); i++ {
			if c.Hops[i].Profile == profile {
				out = append(out, c.Hops[i+1])
			}
		}
	}
	return out
}

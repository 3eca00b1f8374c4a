package sfc

import (
	"reflect"
	"testing"

	"github.com/stitchnfv/stitch/descriptors"
)

func TestChains(t *testing.T) {
	nsd := &descriptors.NSD{Vnffgds: []descriptors.Vnffgd{{
		ID: "fg",
		Nfpd: []descriptors.Nfpd{
			{ID: "web", MatchAttributes: descriptors.MatchAttributes{IPProto: "tcp", DestinationPort: 80},
				Positions: []descriptors.NfpPosition{
					{Order: 3, VnfProfileID: "web", IngressCpdID: "data"},
					{Order: 1, VnfProfileID: "fw", IngressCpdID: "in", EgressCpdID: "out"},
					{Order: 2, VnfProfileID: "lb", IngressCpdID: "data", EgressCpdID: "data"},
				}},
			{ID: "ssh", Positions: []descriptors.NfpPosition{
				{Order: 1, VnfProfileID: "fw", IngressCpdID: "in", EgressCpdID: "out"},
				{Order: 2, VnfProfileID: "bastion", IngressCpdID: "data"},
			}},
		},
	}}}
	chains := Chains(nsd)
	if len(chains) != 2 || chains[0].Path != "web" || chains[0].Match.DestinationPort != 80 {
		t.Fatalf("chains = %+v", chains)
	}
	var order []string
	for _, h := range chains[0].Hops {
		order = append(order, h.Profile)
	}
	if !reflect.DeepEqual(order, []string{"fw", "lb", "web"}) {
		t.Fatalf("hop order %v, want fw lb web (by position order)", order)
	}
	for _, tc := range []struct {
		profile string
		want    []string
	}{
		{"fw", []string{"lb", "bastion"}},
		{"lb", []string{"web"}},
		{"web", nil},
		{"unknown", nil},
	} {
		var got []string
		for _, h := range Next(chains, tc.profile) {
			got = append(got, h.Profile)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Next(%s) = %v, want %v", tc.profile, got, tc.want)
		}
	}
}

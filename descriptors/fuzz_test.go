package descriptors

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that nothing a client uploads can crash the codec, the
// validators or the accessors, that every error is an ErrInvalid, and that
// what Parse accepts, Marshal writes back in a form Parse reads unchanged.
// Seeds: testdata/fuzz/FuzzParse plus the sample descriptors.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"testdata/osm/*.yaml", "testdata/stitch/*.yaml"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, _, err := Parse(data)
		if err != nil {
			if doc != nil {
				t.Fatal("Parse returned a document along with an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse error %q does not match ErrInvalid", err)
			}
			return
		}
		catalog := catalogOf(doc)
		for i := range doc.VNFDs {
			v := &doc.VNFDs[i]
			checkVNFDAccessors(t, v, ValidateVNFD(v) == nil)
		}
		for i := range doc.NSDs {
			n := &doc.NSDs[i]
			checkNSDAccessors(t, n, ValidateNSD(n, catalog) == nil)
		}
		for _, format := range []string{"yaml", "json"} {
			checkRoundTrip(t, doc, format)
		}
	})
}

// checkRoundTrip: Marshal succeeds, Parse reads the output without
// warnings, and writing that again gives the same bytes. (Comparing bytes
// rather than structs tolerates an empty list coming back as nil.)
func checkRoundTrip(t *testing.T, doc *Document, format string) {
	out, err := Marshal(doc, format)
	if err != nil {
		t.Fatalf("Marshal(%s): %v", format, err)
	}
	back, warnings, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(Marshal(%s)): %v\n%s", format, err, out)
	}
	if len(warnings) > 0 {
		t.Fatalf("Parse(Marshal(%s)) warns: %v\n%s", format, warnings, out)
	}
	again, err := Marshal(back, format)
	if err != nil {
		t.Fatalf("Marshal(Parse(Marshal(%s))): %v", format, err)
	}
	if !bytes.Equal(out, again) {
		t.Fatalf("%s round trip is not stable:\n%s\n---\n%s", format, out, again)
	}
}

// checkVNFDAccessors calls every accessor (none may panic) and, for a valid
// VNFD, checks what validation promises the orchestrator.
func checkVNFDAccessors(t *testing.T, v *VNFD, valid bool) {
	if _, ok := v.Flavour(""); valid && !ok {
		t.Fatal("valid VNFD without a first flavour")
	}
	for i := range v.DFs {
		df := &v.DFs[i]
		for _, vdu := range v.VDUs {
			vcpu, mem := v.Compute(vdu.ID)
			if vcpu < 1 || mem < 1 {
				t.Fatalf("Compute(%s) = %d, %d", vdu.ID, vcpu, mem)
			}
			v.Slots(df.ID, vdu.ID)
			lo, hi := df.Bounds(vdu.ID)
			levels := []string{""}
			for _, l := range df.InstantiationLevels {
				levels = append(levels, l.ID)
			}
			for _, l := range levels {
				n := df.InitialInstances(vdu.ID, l)
				if valid && (n < lo || hi > 0 && n > hi) {
					t.Fatalf("valid VNFD: InitialInstances(%s, %q) = %d outside [%d, %d]", vdu.ID, l, n, lo, hi)
				}
			}
		}
		for _, a := range df.ScalingAspects {
			if _, err := df.AspectDelta(a.ID); valid && err != nil {
				t.Fatalf("valid VNFD: AspectDelta(%s): %v", a.ID, err)
			}
		}
	}
}

// checkNSDAccessors calls every accessor and, for a valid NSD, checks that
// deployment order and link resolution hold.
func checkNSDAccessors(t *testing.T, n *NSD, valid bool) {
	n.Flavour("")
	for i := range n.DFs {
		df := &n.DFs[i]
		if _, err := df.DeploymentOrder(); valid && err != nil {
			t.Fatalf("valid NSD: DeploymentOrder: %v", err)
		}
		for _, vp := range df.VnfProfiles {
			df.Profile(vp.ID)
			df.Dependants(vp.ID)
			for _, vlc := range vp.VirtualLinkConnectivity {
				for _, cc := range vlc.ConstituentCpdIDs {
					vl, ok := df.LinkOf(cc.ConstituentBaseElementID, cc.ConstituentCpdID)
					if !valid {
						continue
					}
					if _, found := n.VirtualLink(vl); !ok || !found {
						t.Fatalf("valid NSD: LinkOf(%s, %s) = %q, %v: not a virtual-link-desc", cc.ConstituentBaseElementID, cc.ConstituentCpdID, vl, ok)
					}
				}
			}
		}
	}
}

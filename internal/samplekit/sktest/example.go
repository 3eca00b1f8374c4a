package sktest

import (
	"os"
	"testing"

	"github.com/stitchnfv/stitch/descriptors"
)

// ExampleArgs returns the program args of the VNFD in path (its only
// VDU), expanded as the VNFM would with vars, so a program's test can
// check that its example descriptor still runs it.
func ExampleArgs(t testing.TB, path string, vars map[string]string) (program string, args []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, _, err := descriptors.Parse(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(doc.VNFDs) != 1 || len(doc.VNFDs[0].VDUs) != 1 || doc.VNFDs[0].VDUs[0].Program == nil {
		t.Fatalf("%s: want one VNFD with one VDU with a program", path)
	}
	p := doc.VNFDs[0].VDUs[0].Program
	for _, a := range p.Args {
		args = append(args, os.Expand(a, func(k string) string { return vars[k] }))
	}
	return p.Path, args
}

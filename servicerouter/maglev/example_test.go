package maglev_test

import (
	"fmt"

	"github.com/stitchnfv/stitch/servicerouter/maglev"
)

func Example() {
	backends := []maglev.Backend{
		{Index: 0, Key: "web-a", Weight: 1}, // free session slots
		{Index: 1, Key: "web-b", Weight: 2},
		{Index: 2, Key: "web-c", Weight: 3},
	}
	table, err := maglev.Build(maglev.DefaultSize, backends)
	if err != nil {
		panic(err)
	}
	c := maglev.Counts(table)
	fmt.Println("entries:", c[0], c[1], c[2])

	// web-c drains: only its entries move, to the others by preference.
	backends[2].Weight = 0
	table, changed, err := maglev.Update(table, backends)
	if err != nil {
		panic(err)
	}
	c = maglev.Counts(table)
	fmt.Println("entries:", c[0], c[1], c[2], "changed:", len(changed))
	fmt.Println(maglev.Lookup(table, 12345) != 2)
	// Output:
	// entries: 10923 21846 32768
	// entries: 21846 43691 0 changed: 32768
	// true
}

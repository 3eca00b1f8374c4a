package ovn

import (
	"fmt"
	"slices"
	"strings"
)

// Changes says what a Render or Remove changed in NB, each entry "Table
// name" (e.g. "Logical_Switch 0123456789ab-net1"), sorted. A render of
// unchanged input returns empty Changes.
type Changes struct {
	Created, Updated, Deleted []string
}

// Empty reports whether nothing changed.
func (ch Changes) Empty() bool {
	return len(ch.Created) == 0 && len(ch.Updated) == 0 && len(ch.Deleted) == 0
}

func (ch Changes) String() string {
	var b strings.Builder
	for _, l := range []struct {
		sign  string
		items []string
	}{{"+", ch.Created}, {"~", ch.Updated}, {"-", ch.Deleted}} {
		for _, it := range l.items {
			fmt.Fprintf(&b, "%s %s\n", l.sign, it)
		}
	}
	return b.String()
}

func (ch *Changes) sort() {
	for _, s := range []*[]string{&ch.Created, &ch.Updated, &ch.Deleted} {
		slices.Sort(*s)
		*s = slices.Compact(*s)
	}
}

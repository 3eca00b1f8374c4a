package descriptors

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrInvalid is matched (errors.Is) by every error that says a descriptor is
// malformed or inconsistent, whether Parse or a Validate function found it.
var ErrInvalid = errors.New("invalid descriptor")

// Problem is one mistake in a descriptor: where, and why.
type Problem struct {
	Path   string // e.g. nsd.df[0].vnf-profile[2].vnfd-id
	Reason string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Reason
	}
	return p.Path + ": " + p.Reason
}

// ValidationError lists every problem found in a descriptor, so an author
// can fix them all in one round.
type ValidationError struct {
	Problems []Problem
}

// Error lists the problems one per line as "path: reason".
func (e *ValidationError) Error() string {
	if len(e.Problems) == 0 {
		return ErrInvalid.Error()
	}
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Is makes errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// checker accumulates problems while a descriptor is walked.
type checker struct {
	problems []Problem
	seen     map[Problem]bool
}

func (c *checker) add(path, format string, args ...any) {
	p := Problem{Path: path, Reason: fmt.Sprintf(format, args...)}
	// The same reference can be reached once per deployment flavour; say it
	// once.
	if c.seen[p] {
		return
	}
	if c.seen == nil {
		c.seen = map[Problem]bool{}
	}
	c.seen[p] = true
	c.problems = append(c.problems, p)
}

func (c *checker) err() error {
	if len(c.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: c.problems}
}

const maxIDLength = 63

// validID reports whether s can be an id. SOL006 allows any string; stitch
// asks for what fits a DNS label, an OVN name and a file name once the
// orchestrator lowercases it. Upper case and '.' stay allowed because OSM's
// own packages use them (vdu "hackfest_basic-VM", image "ubuntu20.04").
func validID(s string) bool {
	if s == "" || len(s) > maxIDLength || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// id checks a required id; it reports whether the id is usable.
func (c *checker) id(path, id string) bool {
	switch {
	case id == "":
		c.add(path, "required")
		return false
	case !validID(id):
		c.add(path, "%q is not a valid id: use letters, digits, '-', '_' and '.', start with a letter or digit, at most %d characters", id, maxIDLength)
		return false
	}
	return true
}

// index checks the ids of one keyed list (present, well formed, unique) and
// returns its items by id for resolving references. Ids that differ only in
// letter case count as duplicates: names derived from them are lowercased.
func index[T any](c *checker, path string, items []T, idOf func(*T) string) map[string]*T {
	byID := make(map[string]*T, len(items))
	folded := make(map[string]string, len(items))
	for i := range items {
		p := fmt.Sprintf("%s[%d].id", path, i)
		id := idOf(&items[i])
		if !c.id(p, id) {
			continue
		}
		if _, dup := byID[id]; dup {
			c.add(p, "duplicate id %q", id)
			continue
		}
		if other, dup := folded[strings.ToLower(id)]; dup {
			c.add(p, "id %q differs from %q only in letter case", id, other)
			continue
		}
		byID[id] = &items[i]
		folded[strings.ToLower(id)] = id
	}
	return byID
}

// ref resolves a required reference, reporting it when it dangles.
func ref[T any](c *checker, path, id string, in map[string]*T, what string) *T {
	if id == "" {
		c.add(path, "required")
		return nil
	}
	t, ok := in[id]
	if !ok {
		c.add(path, "unknown %s %q", what, id)
	}
	return t
}

// optRef resolves a reference that may be left out.
func optRef[T any](c *checker, path, id string, in map[string]*T, what string) *T {
	if id == "" {
		return nil
	}
	return ref(c, path, id, in, what)
}

// uniqueStrings reports empty and repeated entries of a plain string list.
func (c *checker) uniqueStrings(path string, list []string) {
	seen := make(map[string]bool, len(list))
	for i, s := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case s == "":
			c.add(p, "must not be empty")
		case seen[s]:
			c.add(p, "duplicate entry %q", s)
		}
		seen[s] = true
	}
}

// cidr checks an optional subnet and returns it when valid.
func (c *checker) cidr(path, s string) (netip.Prefix, bool) {
	if s == "" {
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		c.add(path, "%q is not a CIDR such as 10.0.0.0/24 or 2001:db8::/64", s)
		return netip.Prefix{}, false
	}
	if p.Masked() != p {
		c.add(path, "%q is not a network address; did you mean %s?", s, p.Masked())
		return netip.Prefix{}, false
	}
	return p, true
}

// port checks an optional port number.
func (c *checker) port(path string, port int) {
	if port != 0 && (port < 1 || port > 65535) {
		c.add(path, "port %d is outside 1..65535", port)
	}
}

func (c *checker) protocol(path, proto string, allowed ...string) {
	if proto == "" {
		return
	}
	for _, a := range allowed {
		if proto == a {
			return
		}
	}
	c.add(path, "protocol %q is not one of %s", proto, strings.Join(allowed, ", "))
}

// bounds checks a min/max pair where a max of 0 means "no maximum".
func (c *checker) bounds(path, loName string, lo int, hiName string, hi int) {
	if lo < 0 {
		c.add(path, "%s %d is negative", loName, lo)
	}
	if hi < 0 {
		c.add(path, "%s %d is negative", hiName, hi)
	}
	if hi > 0 && lo > hi {
		c.add(path, "%s %d > %s %d", loName, lo, hiName, hi)
	}
}

func (c *checker) nonNegative(path string, d Duration) {
	if d < 0 {
		c.add(path, "must not be negative, got %s", d.Std())
	}
}

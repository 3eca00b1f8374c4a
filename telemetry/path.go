package telemetry

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Wildcards usable in path patterns (Get, Watch, gNMI subscriptions).
const (
	// AnyElem matches exactly one element with any name and any keys; as a key
	// value it matches any value of that key.
	AnyElem = "*"
	// AnyDepth matches zero or more elements.
	AnyDepth = "..."
)

// Elem is one element of a Path: a name and, for list entries, its keys.
type Elem struct {
	Name string
	Keys map[string]string
}

// Path is a sequence of elements from the root. A nil or empty Path is the
// root itself.
type Path []Elem

// ParsePath parses the usual gNMI string form: "/a/b[k=v][k2=v2]/c".
// Inside brackets '/' is literal (interface names such as "Ethernet1/1"); a
// backslash escapes the next character anywhere.
func ParsePath(s string) (Path, error) {
	s = strings.TrimPrefix(s, "/")
	if s == "" {
		return Path{}, nil
	}
	var (
		p    Path
		name strings.Builder
		keys map[string]string
	)
	flush := func() error {
		if name.Len() == 0 {
			return errors.New("empty element name")
		}
		p = append(p, Elem{Name: name.String(), Keys: keys})
		name.Reset()
		keys = nil
		return nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 == len(s) {
				return nil, fmt.Errorf("path %q: trailing backslash", s)
			}
			i++
			name.WriteByte(s[i])
		case c == '/':
			if err := flush(); err != nil {
				return nil, fmt.Errorf("path %q: %w", s, err)
			}
		case c == '[':
			if name.Len() == 0 {
				return nil, fmt.Errorf("path %q: key before element name", s)
			}
			k, v, n, err := parseKey(s[i+1:])
			if err != nil {
				return nil, fmt.Errorf("path %q: %w", s, err)
			}
			if keys == nil {
				keys = make(map[string]string, 1)
			}
			if _, dup := keys[k]; dup {
				return nil, fmt.Errorf("path %q: key %q given twice", s, k)
			}
			keys[k] = v
			i += n
			if i+1 < len(s) && s[i+1] != '/' && s[i+1] != '[' {
				return nil, fmt.Errorf("path %q: unexpected %q after key", s, s[i+1])
			}
		case c == ']' || c == '=':
			return nil, fmt.Errorf("path %q: unexpected %q", s, c)
		default:
			name.WriteByte(c)
		}
	}
	if err := flush(); err != nil {
		return nil, fmt.Errorf("path %q: %w", s, err)
	}
	return p, nil
}

// parseKey parses "k=v]..." and returns the key, the value and how many
// bytes it consumed including the closing bracket.
func parseKey(s string) (k, v string, n int, err error) {
	eq := strings.IndexByte(s, '=')
	if eq <= 0 {
		return "", "", 0, errors.New("key without name or '='")
	}
	k = s[:eq]
	if strings.ContainsAny(k, "[]/\\") {
		return "", "", 0, fmt.Errorf("bad key name %q", k)
	}
	var b strings.Builder
	for i := eq + 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 == len(s) {
				return "", "", 0, errors.New("trailing backslash in key value")
			}
			i++
			b.WriteByte(s[i])
		case ']':
			return k, b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", "", 0, fmt.Errorf("key %q not closed with ']'", k)
}

// MustParsePath is ParsePath for constant paths in programs and tests.
func MustParsePath(s string) Path {
	p, err := ParsePath(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String is the canonical form: keys sorted by name, special characters
// escaped. Two paths naming the same node have the same String, so it is the
// tree's map key.
func (p Path) String() string {
	if len(p) == 0 {
		return "/"
	}
	var b strings.Builder
	for _, e := range p {
		b.WriteByte('/')
		writeEscaped(&b, e.Name, "/[]=\\")
		if len(e.Keys) == 0 {
			continue
		}
		names := make([]string, 0, len(e.Keys))
		for k := range e.Keys {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			b.WriteByte('[')
			b.WriteString(k)
			b.WriteByte('=')
			writeEscaped(&b, e.Keys[k], "]\\")
			b.WriteByte(']')
		}
	}
	return b.String()
}

func writeEscaped(b *strings.Builder, s, special string) {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(special, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
}

// HasWildcards reports whether p is a pattern rather than one node.
func (p Path) HasWildcards() bool {
	for _, e := range p {
		if e.Name == AnyElem || e.Name == AnyDepth {
			return true
		}
		for _, v := range e.Keys {
			if v == AnyElem {
				return true
			}
		}
	}
	return false
}

// Validate rejects patterns that cannot match anything meaningful.
func (p Path) Validate() error {
	for i, e := range p {
		if e.Name == "" {
			return fmt.Errorf("element %d has an empty name", i)
		}
		if e.Name == AnyDepth && len(e.Keys) > 0 {
			return fmt.Errorf("element %d: %q cannot have keys", i, AnyDepth)
		}
		for k := range e.Keys {
			if k == "" {
				return fmt.Errorf("element %d (%s) has a key with an empty name", i, e.Name)
			}
		}
	}
	return nil
}

// Join returns p followed by q, sharing no slice memory with either.
func (p Path) Join(q Path) Path {
	out := make(Path, 0, len(p)+len(q))
	out = append(out, p...)
	return append(out, q...)
}

// Matches reports whether pattern p selects the node at path n: either n
// itself or, because a gNMI path to a container means everything beneath it,
// any descendant. In p, "*" matches one element, "..." any number, a key
// value "*" any value, and a key p leaves out any value of that key.
func (p Path) Matches(n Path) bool { return matchFrom(p, n) }

func matchFrom(p, n Path) bool {
	for len(p) > 0 {
		if p[0].Name == AnyDepth {
			rest := p[1:]
			for i := 0; i <= len(n); i++ {
				if matchFrom(rest, n[i:]) {
					return true
				}
			}
			return false
		}
		if len(n) == 0 || !elemMatches(p[0], n[0]) {
			return false
		}
		p, n = p[1:], n[1:]
	}
	return true
}

func elemMatches(pe, ne Elem) bool {
	if pe.Name != AnyElem && pe.Name != ne.Name {
		return false
	}
	for k, v := range pe.Keys {
		if v == AnyElem {
			continue
		}
		if nv, ok := ne.Keys[k]; !ok || nv != v {
			return false
		}
	}
	return true
}

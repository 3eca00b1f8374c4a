package telemetry

import (
	"testing"
)

func TestParsePathCanonical(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"/", "/"},
		{"/system/state/cpu-utilization", "/system/state/cpu-utilization"},
		{"system/state", "/system/state"},
		{"/a/b[y=2][x=1]/c", "/a/b[x=1][y=2]/c"},
		{"/interfaces/interface[name=Ethernet1/1]/state", "/interfaces/interface[name=Ethernet1/1]/state"},
		{`/a[k=x\]y]/b`, `/a[k=x\]y]/b`},
		{`/a\/b/c`, `/a\/b/c`},
		{"/a[k=]", "/a[k=]"},
	}
	for _, tc := range tests {
		p, err := ParsePath(tc.in)
		if err != nil {
			t.Fatalf("ParsePath(%q): %v", tc.in, err)
		}
		if got := p.String(); got != tc.want {
			t.Errorf("ParsePath(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
		again, err := ParsePath(p.String())
		if err != nil || again.String() != tc.want {
			t.Errorf("round trip of %q: %q, %v", tc.want, again, err)
		}
	}
}

func TestParsePathErrors(t *testing.T) {
	for _, in := range []string{"/a//b", "/a[k=v", "/[k=v]", "/a[=v]", "/a[k]", "/a[k=1][k=2]", "/a]", `/a\`, "/a[k=v]x"} {
		if p, err := ParsePath(in); err == nil {
			t.Errorf("ParsePath(%q) = %v, want error", in, p)
		}
	}
}

func TestMatches(t *testing.T) {
	leaf := MustParsePath("/services/service[name=web]/instances/instance[id=i1]/state/available-slots")
	tests := []struct {
		pattern string
		want    bool
	}{
		{"/", true},
		{"/services", true},
		{"/services/service[name=web]", true},
		{"/services/service", true}, // keys left out match any
		{"/services/service[name=*]/instances/instance[id=*]/state/available-slots", true},
		{"/services/service[name=db]", false},
		{"/services/*/instances/*/state/available-slots", true},
		{"/.../available-slots", true},
		{"/services/.../state", true},
		{"/.../instance[id=i2]", false},
		{"/services/service[name=web]/instances/instance[id=i1]/state/available-slots/more", false},
		{"/system", false},
		{"/services/service[name=web][zone=a]", false}, // a key the node lacks
	}
	for _, tc := range tests {
		if got := MustParsePath(tc.pattern).Matches(leaf); got != tc.want {
			t.Errorf("%s matches leaf = %v, want %v", tc.pattern, got, tc.want)
		}
	}
}

// FuzzParsePath: a path that parses prints as a string that parses to the
// same path, and printing is stable; nothing panics.
//
//	go test -run '^$' -fuzz FuzzParsePath ./telemetry/
func FuzzParsePath(f *testing.F) {
	for _, seed := range []string{
		"/", "/a/b/c", "/services/service[name=web]/instances/instance[id=i1]/state/available-slots",
		"/interfaces/interface[name=Ethernet1/1]/state/counters/in-octets", `/a[k=v\]w]/b`, "/a[k1=1][k2=2]", "a/b",
		"/a[", "/a[k]", "/a[=v]", `/a\`, "//", "/a/*/c", "/a/.../d", "/a[k=*]",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			return
		}
		printed := p.String()
		again, err := ParsePath(printed)
		if err != nil {
			t.Fatalf("%q parsed, printed as %q, which does not parse: %v", s, printed, err)
		}
		if again.String() != printed {
			t.Fatalf("%q → %q → %q: printing is not stable", s, printed, again.String())
		}
	})
}

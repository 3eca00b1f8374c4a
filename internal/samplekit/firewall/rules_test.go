package firewall

import (
	"net/http/httptest"
	"testing"
)

func TestRulesMatch(t *testing.T) {
	r, err := ParseRules([]string{"10.1.0.0/16", "192.0.2.7"}, []string{"/admin", "/private/"}, []string{"delete"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method, target, peer, xff string
		denied                    bool
	}{
		{"GET", "/", "127.0.0.1:1000", "", false},
		{"GET", "/", "10.1.200.3:1000", "", true},
		{"GET", "/", "[::ffff:10.1.0.1]:1000", "", true}, // IPv4 peer on a dual-stack socket
		{"GET", "/", "192.0.2.7:1", "", true},
		{"GET", "/", "192.0.2.8:1", "", false},
		{"GET", "/", "127.0.0.1:1", "10.1.0.1", false}, // headers never decide the source
		{"GET", "/admin", "127.0.0.1:1", "", true},
		{"GET", "/admin/", "127.0.0.1:1", "", true},
		{"GET", "/admin/x?y=1", "127.0.0.1:1", "", true},
		{"GET", "//admin", "127.0.0.1:1", "", true},
		{"GET", "/x/../admin", "127.0.0.1:1", "", true},
		{"GET", "/%61dmin", "127.0.0.1:1", "", true}, // percent-encoded
		{"GET", "/administrator", "127.0.0.1:1", "", false},
		{"GET", "/private", "127.0.0.1:1", "", true},
		{"DELETE", "/kv/a", "127.0.0.1:1", "", true},
		{"delete", "/kv/a", "127.0.0.1:1", "", true},
		{"PUT", "/kv/a", "127.0.0.1:1", "", false},
	}
	for _, c := range cases {
		req := httptest.NewRequest("GET", "http://svc"+c.target, nil)
		req.Method = c.method
		req.RemoteAddr = c.peer
		if c.xff != "" {
			req.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := r.Match(req) != ""; got != c.denied {
			t.Errorf("%s %s from %s (xff %q): denied=%v, want %v", c.method, c.target, c.peer, c.xff, got, c.denied)
		}
	}
}

func TestParseRulesRejects(t *testing.T) {
	for _, c := range []struct{ src, path, method []string }{
		{src: []string{"10.0.0.0/33"}},
		{src: []string{"nope"}},
		{path: []string{"admin"}},
		{method: []string{"GE T"}},
	} {
		if _, err := ParseRules(c.src, c.path, c.method); err == nil {
			t.Errorf("ParseRules(%v, %v, %v) accepted", c.src, c.path, c.method)
		}
	}
}

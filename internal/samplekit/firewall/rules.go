// Package firewall is the HTTP-aware firewall VNF: requests matching a
// deny rule are dropped, the rest are forwarded to the next function of the
// chain.
package firewall

import (
	"fmt"
	"net/http"
	"net/netip"
	"path"
	"slices"
	"strings"
)

// Rules are the deny rules; a request matching any of them is dropped.
type Rules struct {
	// Sources are matched against the TCP peer, never against headers a
	// client can write (X-Forwarded-For).
	Sources []netip.Prefix
	// Paths are prefixes on whole segments of the cleaned path: "/admin"
	// denies /admin and /admin/x but not /administrator.
	Paths []string
	// Methods are matched case-insensitively, so "delete" cannot slip
	// past a rule on DELETE.
	Methods []string
}

// ParseRules checks the flag values: sources as CIDRs or single
// addresses, paths starting with '/'.
func ParseRules(sources, paths, methods []string) (Rules, error) {
	var r Rules
	for _, s := range sources {
		p, err := parsePrefix(s)
		if err != nil {
			return Rules{}, fmt.Errorf("deny-src %q: %w", s, err)
		}
		r.Sources = append(r.Sources, p)
	}
	for _, p := range paths {
		if !strings.HasPrefix(p, "/") {
			return Rules{}, fmt.Errorf("deny-path %q: must start with /", p)
		}
		r.Paths = append(r.Paths, path.Clean(p))
	}
	for _, m := range methods {
		if m == "" || strings.ContainsAny(m, " \t/") {
			return Rules{}, fmt.Errorf("deny-method %q: not an HTTP method", m)
		}
		r.Methods = append(r.Methods, strings.ToUpper(m))
	}
	return r, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// Match returns the rule r denies req by, or "" to let it through.
func (r Rules) Match(req *http.Request) string {
	if len(r.Sources) > 0 {
		if ap, err := netip.ParseAddrPort(req.RemoteAddr); err == nil {
			// A dual-stack listener shows IPv4 peers as ::ffff:a.b.c.d.
			peer := ap.Addr().Unmap()
			for _, p := range r.Sources {
				if p.Contains(peer) {
					return "deny-src " + p.String()
				}
			}
		}
	}
	if i := slices.IndexFunc(r.Methods, func(m string) bool { return strings.EqualFold(m, req.Method) }); i >= 0 {
		return "deny-method " + r.Methods[i]
	}
	// Clean first, so /x/../admin and //admin meet the /admin rule.
	p := path.Clean("/" + req.URL.Path)
	for _, prefix := range r.Paths {
		if prefix == "/" || p == prefix || strings.HasPrefix(p, prefix+"/") {
			return "deny-path " + prefix
		}
	}
	return ""
}

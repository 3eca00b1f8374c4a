package control

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// FuzzPutServices: whatever the body, the handler answers 200 or a 4xx
// and never fails inside (5xx) or panics; a refused body leaves the
// router's services as they were.
//
//	go test -run '^$' -fuzz FuzzPutServices ./servicerouter/control/
func FuzzPutServices(f *testing.F) {
	for _, seed := range []string{
		`{"services":[]}`,
		`{"services":[{"name":"web/sap","vip":"10.0.0.100","port":8080,"protocol":"tcp","instances":[{"id":"i1","address":"10.0.1.5","mac":"02:00:00:00:00:05"}]}]}`,
		`{"services":[{"name":"dns","vip":"10.0.0.53","port":53,"protocol":"udp","instances":[],"overflow":{"id":"domain:west","address":"192.0.2.1","mac":"02:00:00:00:00:01"},"icmpUnreachable":true}]}`,
		`{"services":[{"name":"a","vip":"fd00::1","port":1,"protocol":"tcp","instances":[{"id":"x","address":"fd00::2","mac":"02:00:00:00:00:02","draining":true}]}]}`,
		`{"services":null}`, `{}`, `[]`, `{"services":[{"name":""}]}`, `{"services":[{"name":"a","vip":"10.0.0.1","port":0}]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		// As cmd/stitch-router runs it: the tunnel sources are known.
		fx := newFixture(t, TunnelSources(netip.MustParseAddr("10.9.0.1"), netip.Addr{}))
		fx.mustDo(t, http.MethodPut, "/v1/services", `{"services":[{"name":"keep","vip":"10.0.0.7","port":80,"protocol":"tcp","instances":[{"id":"k1","address":"10.0.1.7","mac":"02:00:00:00:00:07"}]}]}`)
		before := summary(fx.views(t))
		req := httptest.NewRequest(http.MethodPut, "/v1/services", strings.NewReader(body))
		w := httptest.NewRecorder()
		fx.h.ServeHTTP(w, req)
		switch {
		case w.Code == http.StatusOK:
		case w.Code >= 400 && w.Code < 500:
			if after := summary(fx.views(t)); !slices.Equal(before, after) {
				t.Fatalf("a refused body (%d %s) changed the services: %v → %v", w.Code, w.Body, before, after)
			}
		default:
			t.Fatalf("PUT %q: %d %s", body, w.Code, w.Body)
		}
	})
}

package firewall

import (
	"net/http"

	"github.com/stitchnfv/stitch/internal/samplekit"
)

// Firewall drops denied requests and forwards the rest round robin to the
// bindings' next set.
type Firewall struct {
	rt    *samplekit.Runtime
	rules Rules
	proxy *samplekit.Proxy
}

// New returns the firewall's handler.
func New(rt *samplekit.Runtime, rules Rules) *Firewall {
	return &Firewall{
		rt:    rt,
		rules: rules,
		// The firewall is the edge: the source the chain sees must be the
		// peer it checked, not what the client claims.
		proxy: samplekit.NewProxy(rt, samplekit.ProxyOptions{Policy: samplekit.RoundRobin}),
	}
}

func (f *Firewall) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rule := f.rules.Match(r); rule != "" {
		f.rt.Stats.Dropped.Add(1)
		f.rt.Logger.Info("dropped", "rule", rule, "peer", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
		// Close the connection without an answer, as a packet firewall's
		// drop would leave the client with nothing; ErrAbortHandler does
		// that without the server logging a panic.
		panic(http.ErrAbortHandler)
	}
	f.proxy.ServeHTTP(w, r)
}

// Close drops idle connections to the next hop.
func (f *Firewall) Close() { f.proxy.Close() }

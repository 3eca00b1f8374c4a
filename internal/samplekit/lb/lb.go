// Package lb is the layer-7 load balancer VNF: it spreads requests over
// the bindings' next set, round robin or least connections.
package lb

import (
	"github.com/stitchnfv/stitch/internal/samplekit"
)

// New returns the load balancer's handler: retry once on another instance
// when a dial fails, 502 with a problem when none is left. Close it at
// shutdown.
func New(rt *samplekit.Runtime, policy samplekit.Policy) *samplekit.Proxy {
	return samplekit.NewProxy(rt, samplekit.ProxyOptions{
		Policy: policy,
		// Behind the firewall, X-Forwarded-For is the chain's own.
		TrustForwarded: true,
		Attempts:       2,
	})
}

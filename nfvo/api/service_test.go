package api_test

import (
	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/nfvo/api"
)

// The orchestrator must keep satisfying the interface the API consumes.
// The check lives in a test so that package api itself builds against
// nfvo's types only, not against the orchestrator's implementation.
var _ api.Service = (*nfvo.Orchestrator)(nil)

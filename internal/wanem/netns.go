package wanem

import "github.com/stitchnfv/stitch/internal/namedns"

// inNetNS runs fn inside the named network namespace ("" = the caller's).
// Sockets fn creates stay in that namespace wherever they are used later.
func inNetNS(name string, fn func() error) error { return namedns.DoNamed(name, fn) }

package lab

import "github.com/stitchnfv/stitch/internal/namedns"

// createNetNS creates a named namespace; fs.ErrExist if the name is taken,
// so a lab never adopts a namespace it did not create. Namespaces are named
// as with `ip netns`, so operators can look into a lab with `ip netns exec`.
func createNetNS(name string) error {
	h, err := namedns.Create(name)
	if err != nil {
		return err
	}
	return h.Close()
}

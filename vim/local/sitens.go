package local

// SiteNamespace names the network namespace of a site, so that tools (the
// demo's client, `ip netns exec`) can act from inside a site's networks.
func SiteNamespace(prefix, site string) string { return siteNetNS(prefix, site) }

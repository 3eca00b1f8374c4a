package ovn

import (
	"fmt"
	"strings"
)

// external_ids keys that mark what stitch owns. Only rows carrying both
// owner and NS tags are ever updated or deleted by the renderer.
const (
	KeyOwner  = "stitch.owner"
	Owner     = "stitch"
	KeyNS     = "stitch.ns-instance"
	KeyObject = "stitch.object" // identity of the row within its NS
)

// prefixLen hex characters of the NS id start every name: enough to keep
// names unique across NS instances and short enough to stay readable.
const prefixLen = 12

// nsPrefix is the first 12 hex characters of the NS id, dashes dropped.
func nsPrefix(nsID string) (string, error) {
	var b strings.Builder
	for _, r := range strings.ToLower(nsID) {
		switch {
		case r == '-':
		case r >= '0' && r <= '9', r >= 'a' && r <= 'f':
			if b.Len() < prefixLen {
				b.WriteRune(r)
			}
		default:
			return "", fmt.Errorf("NS id %q: only hex digits and dashes are allowed", nsID)
		}
	}
	if b.Len() < prefixLen {
		return "", fmt.Errorf("NS id %q: need at least %d hex digits", nsID, prefixLen)
	}
	return b.String(), nil
}

// groupIdent turns a group name into a valid OVN match identifier: port
// groups are referenced as @name, and OVN identifiers allow no dashes.
func groupIdent(name string) string { return strings.ReplaceAll(name, "-", "_") }

// namer builds the NB names and tags of one NS instance's rows.
type namer struct {
	nsID, prefix string
}

func (n namer) switchName(name string) string { return n.prefix + "-" + name }
func (n namer) portName(name string) string   { return n.prefix + "-" + name }

func (n namer) routerName(name string) string { return n.prefix + "-" + name }

// routerPortName is "<prefix>-<router>:<switch>". The colon, which stitch
// names may not contain, keeps it apart from any workload port's name.
func (n namer) routerPortName(router, sw string) string { return n.prefix + "-" + router + ":" + sw }

// routerPeerName names the switch port peering with a router port; it
// differs from the router port's name because both become SB port bindings.
func (n namer) routerPeerName(router, sw string) string {
	return n.routerPortName(router, sw) + ":peer"
}

// groupName starts with a letter because an OVN identifier may not start
// with a digit, which a hex prefix may.
func (n namer) groupName(name string) string { return "pg_" + n.prefix + "_" + groupIdent(name) }

// tags returns the external_ids of a row with identity object.
func (n namer) tags(object string) map[string]string {
	return map[string]string{KeyOwner: Owner, KeyNS: n.nsID, KeyObject: object}
}

// owns reports whether a row's external_ids mark it as this NS's.
func (n namer) owns(ids map[string]string) bool {
	return ids[KeyOwner] == Owner && ids[KeyNS] == n.nsID
}

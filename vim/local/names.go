package local

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"

	"github.com/stitchnfv/stitch/vim"
)

// Kernel object naming. Every object carries the driver's prefix so that
// several drivers (parallel tests, a demo next to a daemon) never collide and
// Purge can find everything of one prefix without records:
//
//	netns     <p>-s-<site>            site namespace
//	netns     <p>-i-<hash16(name)>    instance namespace
//	link      <p>-b<hash>             bridge of a network (in each site netns)
//	link      <p>-w<hash>             inter-site veth end (stretched network)
//	link      <p>-v<hash>             site end of an instance port veth
//	cgroup    stitch/<p>/i-<hash16>   instance cgroup, per hierarchy
//
// and on the OVN fabric (ovn.go):
//
//	netns     <p>-u                   underlay the driver builds
//	link      <p>-u<hash>             underlay bridge / a site's underlay veth
//	link      <p>-a<hash>             a site's access port (OVS internal port)
//	link      br-int, br-phy, ovs-netdev  ovs-vswitchd's, in each site netns
//	process   env STITCH_OVN_TAG=vim/local:<p>:<site>  chassis daemons
//
// Interface names are limited to 15 bytes (IFNAMSIZ-1), hence the short
// hashes; the '-' after the prefix cannot occur in a prefix, so names of
// different prefixes never overlap.

const maxIfName = 15

var (
	prefixRE = regexp.MustCompile(`^[a-z0-9]{1,4}$`)
	// Names of instances and networks become file names, link aliases and
	// log file names: keep them to a conservative alphabet.
	nameRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	siteNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$`)
)

func validName(kind, name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%s name %q: must be 1-128 characters of [A-Za-z0-9._-] starting with a letter or digit", kind, name)
	}
	return nil
}

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func siteNetNS(prefix, site string) string { return prefix + "-s-" + site }

func instanceHash(name string) string { return hashHex("instance\x00" + name)[:16] }

func instanceNetNS(prefix, name string) string { return prefix + "-i-" + instanceHash(name) }

func instanceCgroup(name string) string { return "i-" + instanceHash(name) }

// ifName derives an interface name of kind ('b', 'w', 'v') from key; salt
// disambiguates the (unlikely) hash collisions.
func ifName(prefix string, kind byte, key string, salt int) string {
	if salt > 0 {
		key += "\x00" + strconv.Itoa(salt)
	}
	n := maxIfName - len(prefix) - 2
	return prefix + "-" + string(kind) + hashHex(key)[:n]
}

// aliasFor is the ifalias of a link stitch owns: stitch:<ns instance>:<owner>.
func aliasFor(tags map[string]string, owner string) string {
	nsi := tags[vim.TagNSInstance]
	if nsi == "" {
		nsi = "-"
	}
	return "stitch:" + nsi + ":" + owner
}

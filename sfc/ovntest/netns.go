package ovntest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stitchnfv/stitch/internal/namedns"
)

// nsSeq numbers the namespaces of one test binary; together with the pid it
// makes names unique across parallel tests and parallel test binaries
// (go test ./... runs packages concurrently).
var nsSeq atomic.Uint64

// uniqueName returns prefix plus the pid and a sequence number, for
// namespaces, which live in one host-wide directory (/run/netns).
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s%d-%d", prefix, os.Getpid(), nsSeq.Add(1))
}

// addNetNS creates a named network namespace with its loopback up and
// deletes it when t ends. Deleting the namespace also destroys every
// interface still inside it (veth ends, OVS tap devices).
func addNetNS(t testing.TB, name string) {
	t.Helper()
	ip(t, "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ovntest: ip netns del %s: %v: %s", name, err, out)
		}
	})
	ip(t, "-n", name, "link", "set", "lo", "up")
}

// ip runs iproute2's ip and fails t on error.
func ip(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ovntest: ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// InNetNS runs fn on an OS thread switched into the named network
// namespace, then switches the thread back. Sockets fn creates (listeners,
// dialled connections) stay in that namespace after InNetNS returns, so a
// test can serve and dial from workload namespaces without helper
// processes. Close them before the namespace is deleted.
func InNetNS(name string, fn func() error) error { return namedns.DoNamed(name, fn) }

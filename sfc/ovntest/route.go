package ovntest

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// SetGateway gives workload namespace ns (from AttachPort) a default route
// via gw, the router's address on its switch, so that it can reach other
// switches through a logical router.
func SetGateway(t testing.TB, ns, gw string) {
	t.Helper()
	ip(t, "-n", ns, "route", "replace", "default", "via", gw)
}

// EnableForwarding turns workload namespace ns into a routed network
// function: it forwards IPv4 and, since it sends packets back out of the
// interface they came in on, sends no ICMP redirects that would let the
// previous hop bypass it.
func EnableForwarding(t testing.TB, ns string) {
	t.Helper()
	for _, kv := range []string{
		"net.ipv4.ip_forward=1",
		"net.ipv4.conf.all.send_redirects=0",
		"net.ipv4.conf.eth0.send_redirects=0",
	} {
		if out, err := exec.Command("ip", "netns", "exec", ns, "sysctl", "-qw", kv).CombinedOutput(); err != nil {
			t.Fatalf("ovntest: sysctl %s in %s: %v: %s", kv, ns, err, out)
		}
	}
}

// ForwardedPackets is the kernel's Ip ForwDatagrams counter of namespace
// ns: how many IPv4 packets it has routed on. Unlike interface counters it
// ignores ARP and traffic addressed to ns itself, so a rise proves that
// packets crossed ns as a hop.
func ForwardedPackets(t testing.TB, ns string) uint64 {
	t.Helper()
	// /proc/net is the network namespace of the reading process, hence a
	// cat run inside ns rather than a read from the test process.
	out, err := exec.Command("ip", "netns", "exec", ns, "cat", "/proc/net/snmp").Output()
	if err != nil {
		t.Fatalf("ovntest: read /proc/net/snmp of %s: %v", ns, err)
	}
	n, err := snmpCounter(string(out), "Ip", "ForwDatagrams")
	if err != nil {
		t.Fatalf("ovntest: %s: %v", ns, err)
	}
	return n
}

// snmpCounter finds one counter in /proc/net/snmp's format: per protocol a
// line of names followed by a line of values, both prefixed "Proto:".
func snmpCounter(snmp, proto, name string) (uint64, error) {
	lines := strings.Split(snmp, "\n")
	for i := 0; i+1 < len(lines); i++ {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) == 0 || names[0] != proto+":" || len(values) != len(names) || values[0] != proto+":" {
			continue
		}
		for j, n := range names {
			if n == name {
				v, err := strconv.ParseUint(values[j], 10, 64)
				if err != nil {
					return 0, fmt.Errorf("%s %s: %w", proto, name, err)
				}
				return v, nil
			}
		}
	}
	return 0, fmt.Errorf("no %s %s counter in /proc/net/snmp", proto, name)
}

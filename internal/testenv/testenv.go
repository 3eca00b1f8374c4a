// Package testenv gates tests on what the machine offers. On a developer
// laptop a missing capability skips with a clear message; under CI=true
// nothing skips: the test fails instead.
package testenv

import (
	"flag"
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true), where every test
// must run.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable skips t with reason, or fails it under CI.
func Unavailable(t testing.TB, reason string) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true and %s", reason)
	}
	t.Skipf("skipping: %s (set CI=true to make this a failure)", reason)
}

// RequireRoot needs uid 0 (network namespaces, veth, cgroups).
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "this test needs root")
	}
}

// RequireCommands needs each named program on PATH.
func RequireCommands(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			Unavailable(t, "this test needs "+n+" on PATH")
		}
	}
}

// ChildOnly keeps test, the entry point of a child process a benchmark
// starts (the test binary re-executed with envVar set), out of ordinary
// runs by adding it to -test.skip, so that it neither runs nor reports a
// skip. Call it from TestMain after flag.Parse.
func ChildOnly(envVar, test string) {
	if os.Getenv(envVar) != "" {
		return
	}
	pattern := "^" + test + "$"
	if cur := flag.Lookup("test.skip").Value.String(); cur != "" {
		pattern = cur + "|" + pattern
	}
	_ = flag.Set("test.skip", pattern)
}

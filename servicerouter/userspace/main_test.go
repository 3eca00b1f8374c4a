package userspace

import (
	"flag"
	"os"
	"testing"
)

// TestMain keeps TestServeHelper — the child process BenchmarkAFPacket
// starts, not a test — out of ordinary runs, rather than letting it skip.
func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv(serveEnv) == "" {
		skipAlso("^TestServeHelper$")
	}
	os.Exit(m.Run())
}

// skipAlso adds a pattern to -test.skip.
func skipAlso(pattern string) {
	if cur := flag.Lookup("test.skip").Value.String(); cur != "" {
		pattern = cur + "|" + pattern
	}
	_ = flag.Set("test.skip", pattern)
}

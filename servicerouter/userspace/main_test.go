package userspace

import (
	"flag"
	"os"
	"testing"

	"github.com/stitchnfv/stitch/internal/testenv"
)

// TestMain keeps TestServeHelper — the child process BenchmarkAFPacket
// starts, not a test — out of ordinary runs, rather than letting it skip.
func TestMain(m *testing.M) {
	flag.Parse()
	testenv.ChildOnly(serveEnv, "TestServeHelper")
	os.Exit(m.Run())
}

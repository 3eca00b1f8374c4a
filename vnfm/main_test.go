package vnfm

import (
	"flag"
	"os"
	"testing"

	"github.com/stitchnfv/stitch/internal/testenv"
)

// TestMain keeps TestTelemetryBenchTargets — the child process
// BenchmarkTelemetryIngest starts, not a test — out of ordinary runs,
// rather than letting it skip.
func TestMain(m *testing.M) {
	flag.Parse()
	testenv.ChildOnly(benchChildEnv, "TestTelemetryBenchTargets")
	os.Exit(m.Run())
}

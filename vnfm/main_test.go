package vnfm

import (
	"flag"
	"os"
	"testing"
)

// TestMain keeps TestTelemetryBenchTargets — the child process
// BenchmarkTelemetryIngest starts, not a test — out of ordinary runs,
// rather than letting it skip.
func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv(benchChildEnv) == "" {
		pattern := "^TestTelemetryBenchTargets$"
		if cur := flag.Lookup("test.skip").Value.String(); cur != "" {
			pattern = cur + "|" + pattern
		}
		_ = flag.Set("test.skip", pattern)
	}
	os.Exit(m.Run())
}

package sktest

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/internal/samplekit"
)

// RequireHelp checks that a program's -h documents each of wants.
func RequireHelp(t testing.TB, run samplekit.RunFunc, wants ...string) {
	t.Helper()
	var out bytes.Buffer
	if err := run(t.Context(), []string{"-h"}, nil, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("run -h = %v", err)
	}
	for _, want := range wants {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-h does not document %s:\n%s", want, out.String())
		}
	}
}

// RequireUsageErrors checks that each command line is refused as a usage
// error, before the program starts.
func RequireUsageErrors(t testing.TB, run samplekit.RunFunc, cmdlines ...[]string) {
	t.Helper()
	for _, args := range cmdlines {
		var usage *samplekit.UsageError
		if err := run(t.Context(), args, nil, &bytes.Buffer{}); !errors.As(err, &usage) {
			t.Errorf("run %q = %v, want a usage error", args, err)
		}
	}
}

package sktest

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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

// Answer is an HTTP response, read whole.
type Answer struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends one request and reads the answer; a transport error fails t.
func Do(t testing.TB, method, url, body string) Answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Answer{resp.StatusCode, resp.Header, string(b)}
}

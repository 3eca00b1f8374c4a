package gnmi

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/testenv"
)

const gnmiModule = "github.com/openconfig/gnmi"

// buildGNMICLI builds openconfig's gnmi_cli, a client no one here wrote, at
// the gnmi version this module depends on. "go install pkg@version" builds
// it with its own go.mod, so its dependencies (ygot, glog…) stay out of
// ours.
func buildGNMICLI(t *testing.T) string {
	t.Helper()
	testenv.RequireCommands(t, "go")
	// The test runs in its package directory, inside this module, so go
	// list answers with the version go.mod pins.
	list, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", gnmiModule).Output()
	version := strings.TrimSpace(string(list))
	if err != nil || version == "" {
		t.Fatalf("go list -m %s: %q, %v", gnmiModule, list, err)
	}
	bin := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", gnmiModule+"/cmd/gnmi_cli@"+version)
	cmd.Dir = bin
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		// No module proxy and no cache: an environment gap, which CI=true
		// turns into a failure.
		testenv.Unavailable(t, "cannot build gnmi_cli "+version+": "+err.Error()+"\n"+string(out))
	}
	return filepath.Join(bin, "gnmi_cli")
}

func runCLI(t *testing.T, cli string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	out, err := exec.CommandContext(ctx, cli, append([]string{"-insecure", "-logtostderr"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("gnmi_cli %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestGNMICLI(t *testing.T) {
	cli := buildGNMICLI(t)
	h := start(t, Options{})
	h.set(t, slotsWeb1, uint64(42))
	h.set(t, "/system/state/cpu-utilization", 3.25)

	t.Run("capabilities", func(t *testing.T) {
		out := runCLI(t, cli, "-a", h.addr, "-capabilities")
		for _, want := range []string{"stitch-services", "JSON_IETF", "gNMI_version: \"" + h.target.version + "\""} {
			if !strings.Contains(out, want) {
				t.Errorf("capabilities output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("get", func(t *testing.T) {
		out := runCLI(t, cli, "-a", h.addr, "-get", "-proto",
			`path: <elem: <name: "system"> elem: <name: "state"> elem: <name: "cpu-utilization">> encoding: PROTO`)
		if !strings.Contains(out, "double_val: 3.25") || !strings.Contains(out, `name: "cpu-utilization"`) {
			t.Errorf("get output:\n%s", out)
		}
		out = runCLI(t, cli, "-a", h.addr, "-get", "-proto",
			`path: <elem: <name: "services"> elem: <name: "service" key: <key: "name" value: "*">> elem: <name: "..."> elem: <name: "available-slots">> encoding: PROTO`)
		if !strings.Contains(out, "uint_val: 42") {
			t.Errorf("wildcard get output:\n%s", out)
		}
	})

	t.Run("stream", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cmd := exec.CommandContext(ctx, cli, "-insecure", "-logtostderr", "-a", h.addr,
			"-qt", "s", "-dt", "s", "-q", "services")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cancel(); _ = cmd.Wait() }()

		lines := make(chan string, 1024)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(lines)
			s := bufio.NewScanner(stdout)
			for s.Scan() {
				lines <- s.Text()
			}
		}()
		waitLine := func(want string) {
			t.Helper()
			deadline := time.After(waitLimit)
			var seen []string
			for {
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("gnmi_cli exited before printing %q; it printed:\n%s", want, strings.Join(seen, "\n"))
					}
					seen = append(seen, l)
					if strings.Contains(l, want) {
						return
					}
				case <-deadline:
					t.Fatalf("gnmi_cli did not print %q; it printed:\n%s", want, strings.Join(seen, "\n"))
				}
			}
		}
		// Initial value, then a change made after the stream is up. gnmi_cli
		// prints key values as path elements, so this also checks the keys.
		waitLine("services/service/web/instances/instance/i1/state/available-slots, 42")
		h.set(t, slotsWeb1, uint64(41))
		waitLine("services/service/web/instances/instance/i1/state/available-slots, 41")
	})
}

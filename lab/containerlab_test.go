package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeEngine puts a containerlab and a docker on PATH that record their
// arguments (and the lab's variable) instead of running containers: no
// container engine exists where the tests run, so this checks what stitch
// hands over, not containerlab itself. dockerOK says whether `docker info`
// succeeds; deployFails makes `containerlab deploy` fail.
func fakeEngine(t *testing.T, dockerOK, deployFails bool) (calls func() []string) {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "calls")
	script := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script("containerlab", fmt.Sprintf(`echo "containerlab $* STITCH_IMAGE=$STITCH_IMAGE" >> %q
case "$1" in deploy) %s ;; esac
`, log, map[bool]string{true: `echo "Error: image pull failed" >&2; exit 1`, false: "exit 0"}[deployFails]))
	script("docker", fmt.Sprintf("echo docker \"$@\" >> %q\nexit %d\n", log, map[bool]int{true: 0, false: 1}[dockerOK]))
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return func() []string {
		b, _ := os.ReadFile(log)
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
}

func TestContainerlabHandoff(t *testing.T) {
	ctx := context.Background()
	file := "two-site.clab.yml"
	abs, _ := filepath.Abs(file)
	topo, err := ParseFile(file, map[string]string{"STITCH_IMAGE": "example/img:1"})
	if err != nil {
		t.Fatal(err)
	}
	topo.Name = "handoff"

	t.Run("present: the file goes to containerlab, and back at destroy", func(t *testing.T) {
		calls := fakeEngine(t, true, false)
		r := NewRunner(t.TempDir(), nil)
		l, err := r.Deploy(ctx, topo, DeployOptions{})
		if err != nil {
			t.Fatal(err)
		}
		node := topo.Nodes[0].Name
		if info, ok := l.Node(node); !ok || info.NetNS != "clab-handoff-"+node {
			t.Fatalf("node %s: %+v, want containerlab's namespace clab-handoff-%s", node, info, node)
		}
		if _, err := r.Deploy(ctx, topo, DeployOptions{}); !errors.Is(err, ErrAlreadyDeployed) {
			t.Fatalf("second deploy: %v, want ErrAlreadyDeployed", err)
		}
		if err := r.Destroy(ctx, topo.Name); err != nil {
			t.Fatal(err)
		}
		var clab []string
		for _, c := range calls() {
			if strings.HasPrefix(c, "containerlab ") {
				clab = append(clab, c)
			}
		}
		want := []string{
			"containerlab deploy --topo " + abs + " STITCH_IMAGE=example/img:1",
			"containerlab destroy --topo " + abs + " --cleanup STITCH_IMAGE=example/img:1",
		}
		if strings.Join(clab, "\n") != strings.Join(want, "\n") {
			t.Fatalf("containerlab ran:\n%s\nwant:\n%s", strings.Join(clab, "\n"), strings.Join(want, "\n"))
		}
		if _, err := r.Inspect(ctx, topo.Name); !errors.Is(err, ErrNotDeployed) {
			t.Fatalf("inspect after destroy: %v, want ErrNotDeployed", err)
		}
	})
	t.Run("a failed handoff is rolled back", func(t *testing.T) {
		calls := fakeEngine(t, true, true)
		r := NewRunner(t.TempDir(), nil)
		_, err := r.Deploy(ctx, topo, DeployOptions{})
		if err == nil || !strings.Contains(err.Error(), "image pull failed") || !strings.Contains(err.Error(), "rolled back") {
			t.Fatalf("deploy: %v, want containerlab's error, rolled back", err)
		}
		if got := calls(); !strings.HasPrefix(got[len(got)-1], "containerlab destroy") {
			t.Fatalf("calls %v: the rollback should destroy", got)
		}
		if _, err := r.Inspect(ctx, topo.Name); !errors.Is(err, ErrNotDeployed) {
			t.Fatalf("inspect after a failed deploy: %v, want ErrNotDeployed", err)
		}
	})
	t.Run("without a working engine it is refused when required", func(t *testing.T) {
		fakeEngine(t, false, false)
		r := NewRunner(t.TempDir(), nil)
		if _, err := r.Deploy(ctx, topo, DeployOptions{UseContainerlab: true}); !errors.Is(err, ErrUnsupported) {
			t.Fatalf("deploy: %v, want ErrUnsupported", err)
		}
		if _, err := r.Deploy(ctx, topo, DeployOptions{UseContainerlab: true, NoContainerlab: true}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("contradictory options: %v, want ErrInvalid", err)
		}
	})
}

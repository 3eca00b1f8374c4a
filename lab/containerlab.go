package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// containerlabBin is the binary a lab is handed to.
const containerlabBin = "containerlab"

// ContainerlabAvailable reports whether the containerlab binary and a
// working Docker engine are present, i.e. whether handing a topology to
// containerlab is possible.
func ContainerlabAvailable(ctx context.Context) bool {
	if _, err := exec.LookPath(containerlabBin); err != nil {
		return false
	}
	return exec.CommandContext(ctx, "docker", "info").Run() == nil
}

// useContainerlab decides who realises a lab: containerlab when asked to,
// or when it is present and not refused; network namespaces otherwise.
func useContainerlab(ctx context.Context, opts DeployOptions) (bool, error) {
	switch {
	case opts.UseContainerlab && opts.NoContainerlab:
		return false, fmt.Errorf("%w: UseContainerlab and NoContainerlab together", ErrInvalid)
	case opts.NoContainerlab:
		return false, nil
	case opts.UseContainerlab:
		if !ContainerlabAvailable(ctx) {
			return false, fmt.Errorf("%w: containerlab and a working container engine are needed to hand the lab over", ErrUnsupported)
		}
		return true, nil
	}
	return ContainerlabAvailable(ctx), nil
}

// containerlabNetNS is the namespace containerlab links for a node's
// container under /run/netns: "<prefix>-<lab>-<node>", "<lab>-<node>" for
// the prefix "__lab-name", and "<node>" for an empty prefix.
func containerlabNetNS(t *Topology, node string) string {
	switch t.Prefix {
	case "":
		return node
	case "__lab-name":
		return t.Name + "-" + node
	}
	return t.Prefix + "-" + t.Name + "-" + node
}

// deployContainerlab hands the topology file to containerlab. The lab's
// state records the handoff, so Inspect lists the containers' namespaces
// and Destroy hands the lab back to containerlab.
func (r *Runner) deployContainerlab(ctx context.Context, t *Topology, dir string) (*Lab, error) {
	if t.File == "" {
		return nil, errors.Join(fmt.Errorf("%w: containerlab needs the topology's file (use ParseFile)", ErrInvalid), os.RemoveAll(dir))
	}
	st := &labState{Name: t.Name, Containerlab: true, File: t.File, Env: t.Env}
	for _, n := range t.Nodes {
		st.Nodes = append(st.Nodes, nodeState{Name: n.Name, Kind: n.Kind, Site: n.Site, NetNS: containerlabNetNS(t, n.Name)})
	}
	if err := writeState(dir, st); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	if err := runContainerlab(ctx, t.Env, "deploy", "--topo", t.File); err != nil {
		if derr := r.destroy(context.WithoutCancel(ctx), t.Name); derr != nil {
			return nil, fmt.Errorf("deploy lab %s with containerlab: %w (rollback failed, run Destroy again: %w)", t.Name, err, derr)
		}
		return nil, fmt.Errorf("deploy lab %s with containerlab (rolled back): %w", t.Name, err)
	}
	st.Complete = true
	if err := writeState(dir, st); err != nil {
		return nil, err
	}
	r.log.InfoContext(ctx, "lab deployed by containerlab", "lab", t.Name, "file", t.File)
	return r.Inspect(ctx, t.Name)
}

// destroyContainerlab hands a lab deployed by containerlab back to it.
func destroyContainerlab(ctx context.Context, st *labState) error {
	return runContainerlab(ctx, st.Env, "destroy", "--topo", st.File, "--cleanup")
}

// runContainerlab runs containerlab with the variables the topology was
// parsed with, so that it substitutes the same values.
func runContainerlab(ctx context.Context, env map[string]string, args ...string) error {
	cmd := exec.CommandContext(ctx, containerlabBin, args...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("containerlab %s: %w: %s", strings.Join(args, " "), err, lastLines(string(out), 5))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// absFile is path made absolute, for containerlab run from anywhere.
func absFile(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

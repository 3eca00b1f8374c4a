package lab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/stitchnfv/stitch/internal/namedns"
)

// Runner deploys, inspects and destroys labs, keeping each lab's state
// under StateDir/<lab name>.
type Runner struct {
	stateDir string
	log      *slog.Logger
}

// NewRunner returns a runner keeping state under stateDir. A nil logger
// discards logs.
func NewRunner(stateDir string, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{stateDir: stateDir, log: log}
}

// DeployOptions tune Deploy.
type DeployOptions struct {
	// AllowUnappliedImpairments deploys a lab whose links ask for delay,
	// jitter or loss this kernel cannot apply (no netem): the values are
	// recorded in the lab's state and a warning is logged and returned.
	// Without it such a lab is refused with ErrUnsupported.
	AllowUnappliedImpairments bool
	// RelayCommand is the stitch-wanrelay binary that carries the WAN
	// impairments of links with delay, jitter or loss. "" looks for it next
	// to the running executable, then on PATH; without one, such links
	// need tc netem (or AllowUnappliedImpairments).
	RelayCommand string
	// NoRelay never uses a relay: delay, jitter and loss need tc netem
	// (or AllowUnappliedImpairments), as on a host without the relay.
	NoRelay bool
	// UseContainerlab hands the file to the containerlab binary, which
	// must be present with a working container engine (ErrUnsupported
	// otherwise). By default the lab is handed over whenever both are
	// present, and realised with network namespaces where they are not
	// (as on CI); NoContainerlab always uses namespaces.
	UseContainerlab bool
	NoContainerlab  bool
}

func (r *Runner) labDir(name string) string { return filepath.Join(r.stateDir, name) }

// NSPrefix is the prefix of a lab's namespace names: "<prefix>-<lab>", or
// just "<lab>" when the file's prefix is "" or "__lab-name". Unlike
// containerlab, an empty prefix does not drop the lab name: names must stay
// unique per lab on a shared host.
func NSPrefix(t *Topology) string {
	if t.Prefix == "" || t.Prefix == "__lab-name" {
		return t.Name
	}
	return t.Prefix + "-" + t.Name
}

// NetNSName is the namespace realising a node.
func NetNSName(t *Topology, node string) string { return NSPrefix(t) + "-" + node }

// bridgeDev is the bridge device in a bridge node's namespace.
const bridgeDev = "br0"

// Deploy realises the topology: a namespace per node, veth pairs for the
// links, WAN rate shaping, then each node's exec commands and cmd. A lab of
// the same name already deployed is ErrAlreadyDeployed. Anything that
// cannot be realised is refused before anything is created; a failure half
// way is rolled back (and the error says if the rollback failed too).
func (r *Runner) Deploy(ctx context.Context, t *Topology, opts DeployOptions) (*Lab, error) {
	handoff, err := useContainerlab(ctx, opts)
	if err != nil {
		return nil, err
	}
	if !handoff {
		if err := checkRealisable(t); err != nil {
			return nil, err
		}
	}
	if err := namedns.PrepareDir(); err != nil {
		return nil, err
	}
	dir := r.labDir(t.Name)
	if err := reserveLabDir(dir); err != nil {
		if errors.Is(err, ErrAlreadyDeployed) {
			return nil, fmt.Errorf("lab %s: %w (destroy it first)", t.Name, err)
		}
		return nil, err
	}
	if handoff {
		return r.deployContainerlab(ctx, t, dir)
	}
	st := &labState{Name: t.Name, NSPrefix: NSPrefix(t)}
	if err := writeState(dir, st); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	relay := ""
	if !opts.NoRelay {
		relay = findRelay(opts.RelayCommand)
	}
	haveNetem, warnings, err := r.checkImpairments(ctx, t, opts, relay != "")
	if err == nil {
		st.Warnings = warnings
		err = r.realise(ctx, t, st, dir, realiseOpts{relay: relay, haveNetem: haveNetem, allowUnapplied: opts.AllowUnappliedImpairments})
	}
	if err != nil {
		if derr := r.destroy(context.WithoutCancel(ctx), t.Name); derr != nil {
			return nil, fmt.Errorf("deploy lab %s: %w (rollback failed, run Destroy again: %w)", t.Name, err, derr)
		}
		return nil, fmt.Errorf("deploy lab %s (rolled back): %w", t.Name, err)
	}
	r.log.InfoContext(ctx, "lab deployed", "lab", t.Name, "nodes", len(t.Nodes), "links", len(t.Links))
	return r.Inspect(ctx, t.Name)
}

// checkImpairments probes for netem when a link needs it and there is no
// relay to carry it, and decides whether the lab may go ahead without it.
func (r *Runner) checkImpairments(ctx context.Context, t *Topology, opts DeployOptions, haveRelay bool) (bool, []string, error) {
	if haveRelay {
		return false, nil, nil
	}
	var need []string
	for _, l := range t.Links {
		if l.WAN.NeedsNetem() {
			need = append(need, l.A.String()+"--"+l.B.String())
		}
	}
	if len(need) == 0 {
		return false, nil, nil
	}
	have, err := probeNetem(ctx, NSPrefix(t))
	if err != nil {
		return false, nil, err
	}
	if have {
		return true, nil, nil
	}
	msg := fmt.Sprintf("links %s ask for delay/jitter/loss, which need %s or tc netem; there is neither", strings.Join(need, ", "), RelayBinary)
	if !opts.AllowUnappliedImpairments {
		return false, nil, fmt.Errorf("%w: %s (install %s next to this program or on PATH, or set AllowUnappliedImpairments to deploy anyway)", ErrUnsupported, msg, RelayBinary)
	}
	r.log.WarnContext(ctx, "WAN impairments not applied", "lab", t.Name, "links", need, "reason", "no tc netem")
	return false, []string{msg}, nil
}

// realiseOpts is how realise puts WAN impairments on links.
type realiseOpts struct {
	relay          string // stitch-wanrelay binary; "" if none
	haveNetem      bool
	allowUnapplied bool
}

// realise creates everything, recording each namespace and relay in the
// state file as soon as it exists.
func (r *Runner) realise(ctx context.Context, t *Topology, st *labState, dir string, o realiseOpts) error {
	for _, n := range t.Nodes {
		ns := NetNSName(t, n.Name)
		if err := createNetNS(ns); err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
		st.Namespaces = append(st.Namespaces, ns)
		st.Nodes = append(st.Nodes, nodeState{Name: n.Name, Kind: n.Kind, Site: n.Site, NetNS: ns})
		if err := writeState(dir, st); err != nil {
			return err
		}
		if err := setupNode(ns, n.Kind); err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	for _, l := range t.Links {
		if o.relay != "" && l.WAN.NeedsNetem() {
			if err := r.realiseRelayed(ctx, t, l, st, dir, o.relay); err != nil {
				return fmt.Errorf("link %s--%s: %w", l.A, l.B, err)
			}
			continue
		}
		if err := createLink(t, l); err != nil {
			return fmt.Errorf("link %s--%s: %w", l.A, l.B, err)
		}
		ls := linkState{A: l.A.String(), B: l.B.String(), WAN: l.WAN, Applied: true}
		for _, ep := range []Endpoint{l.A, l.B} {
			err := applyImpairment(ctx, NetNSName(t, ep.Node), ep.Interface, l.WAN, o.haveNetem)
			if errors.Is(err, ErrUnsupported) && o.allowUnapplied {
				ls.Applied = false // checkImpairments has warned
				continue
			}
			if err != nil {
				return fmt.Errorf("link %s--%s: %w", l.A, l.B, err)
			}
		}
		st.Links = append(st.Links, ls)
	}
	if err := writeState(dir, st); err != nil {
		return err
	}
	for i, n := range t.Nodes {
		ns := st.Nodes[i].NetNS
		env := nodeEnv(t.Name, n)
		execLog := filepath.Join(dir, n.Name+".exec.log")
		for j, c := range n.Exec {
			if err := runInNetNS(ctx, ns, c, env, execLog); err != nil {
				return fmt.Errorf("node %s exec[%d]: %w", n.Name, j, err)
			}
		}
		if n.Cmd != "" {
			logPath := filepath.Join(dir, n.Name+".log")
			pid, err := startInNetNS(ns, n.Cmd, env, logPath)
			if err != nil {
				return fmt.Errorf("node %s cmd: %w", n.Name, err)
			}
			st.Nodes[i].PID, st.Nodes[i].Log = pid, logPath
		}
	}
	st.Complete = true
	return writeState(dir, st)
}

// Destroy ends a lab's processes, deletes its namespaces (and with them its
// links) and its state. It also clears a lab left half deployed.
// ErrNotDeployed if there is no such lab.
func (r *Runner) Destroy(ctx context.Context, name string) error {
	if err := r.destroy(ctx, name); err != nil {
		return fmt.Errorf("destroy lab %s: %w", name, err)
	}
	r.log.InfoContext(ctx, "lab destroyed", "lab", name)
	return nil
}

func (r *Runner) destroy(ctx context.Context, name string) error {
	if !labNameRE.MatchString(name) {
		return fmt.Errorf("%w: bad lab name %q", ErrInvalid, name)
	}
	dir := r.labDir(name)
	st, err := readState(dir)
	if err != nil {
		return err
	}
	if st.Containerlab {
		if err := destroyContainerlab(ctx, st); err != nil {
			return err // keep the state: Destroy can be retried
		}
		return os.RemoveAll(dir)
	}
	var errs []error
	for _, l := range st.Links {
		if err := stopRelay(ctx, l.RelayPID, l.RelayStart); err != nil {
			errs = append(errs, err)
		}
	}
	// The sweep also ends a relay a crash left unrecorded: relays run
	// inside their WAN namespace.
	for i := len(st.Namespaces) - 1; i >= 0; i-- {
		ns := st.Namespaces[i]
		if err := killNetNSProcs(ctx, ns); err != nil {
			errs = append(errs, err)
		}
		if err := namedns.Delete(ns); err != nil {
			errs = append(errs, err)
		}
	}
	if st.NSPrefix != "" {
		// Left only if a deploy crashed while probing for netem.
		if err := namedns.Delete(st.NSPrefix + "--netem-probe"); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err // keep the state: Destroy can be retried
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove lab state: %w", err)
	}
	return nil
}

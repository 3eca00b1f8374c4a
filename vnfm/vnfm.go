// Package vnfm runs VNF and microservice instances (VNFCs) on a VIM: it turns
// a VDU into a VIM instance, waits for it to be healthy, keeps its bindings
// to neighbouring constituents current, and removes it gracefully.
package vnfm

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/stitchnfv/stitch/descriptors"
	"github.com/stitchnfv/stitch/vim"
)

// Manager deploys VNFCs on one VIM.
type Manager struct {
	vim      vim.Driver
	stateDir string
	log      *slog.Logger
}

// New returns a Manager keeping per-instance files (bindings) under stateDir.
func New(driver vim.Driver, stateDir string, log *slog.Logger) (*Manager, error) {
	if err := os.MkdirAll(filepath.Join(stateDir, "bindings"), 0o755); err != nil {
		return nil, fmt.Errorf("vnfm: state dir: %w", err)
	}
	return &Manager{vim: driver, stateDir: stateDir, log: log}, nil
}

// VnfcSpec is everything needed to run one VDU instance. The orchestrator
// allocates addresses before the VIM call so that they are recorded before
// anything runs and a retried deployment gets the same ones.
type VnfcSpec struct {
	Name    string // VIM instance name, unique
	Site    string
	VNFD    *descriptors.VNFD
	VDU     *descriptors.VDU
	Slots   int
	NsID    string
	Profile string
	OpID    string
	// Ports maps each int-cpd id of the VDU to its VIM network id and address.
	Ports map[string]PortBinding
}

// PortBinding places one connection point on a network.
type PortBinding struct {
	Network string
	IP      string
	// LogicalPort and MAC bind the interface to an SDN logical port the
	// orchestrator renders (see vim.PortSpec); empty on other fabrics.
	LogicalPort string
	MAC         string
	// Anycast, TunnelsFrom and Forwarder are vim.PortSpec's: an entry
	// instance behind a service router, and the router itself.
	Anycast     []string
	TunnelsFrom []string
	Forwarder   bool
}

// Tags returns the VIM tags that mark the instance as stitch's.
func (s VnfcSpec) Tags() vim.Tags {
	return vim.Tags{
		vim.TagNSInstance: s.NsID,
		vim.TagOperation:  s.OpID,
		vim.TagVnfProfile: s.Profile,
		vim.TagVdu:        s.VDU.ID,
	}
}

// Env is the environment contract between stitch and the programs it runs
// (documented in examples/README.md).
func (m *Manager) Env(s VnfcSpec) map[string]string {
	env := map[string]string{
		"STITCH_INSTANCE_ID": s.Name,
		"STITCH_NS_INSTANCE": s.NsID,
		"STITCH_VNF_PROFILE": s.Profile,
		"STITCH_VDU":         s.VDU.ID,
		"STITCH_SLOTS":       strconv.Itoa(s.Slots),
		"STITCH_BINDINGS":    m.BindingsPath(s.Name),
	}
	for cpd, p := range s.Ports {
		env["STITCH_ADDR_"+envName(cpd)] = p.IP
	}
	if s.VDU.Program != nil {
		for k, v := range s.VDU.Program.Env {
			env[k] = expand(v, env)
		}
	}
	return env
}

// expand replaces ${NAME} and $NAME with the instance's variables. Names it
// does not know are left as written, so shell scripts keep their own
// variables ($?, $HOME…); $$ stands for a literal $.
func expand(s string, env map[string]string) string {
	return os.Expand(s, func(name string) string {
		if name == "$" {
			return "$"
		}
		if v, ok := env[name]; ok {
			return v
		}
		return "${" + name + "}"
	})
}

func envName(id string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(id))
}

// Deploy creates the instance (idempotently, by name). It does not wait for
// health.
func (m *Manager) Deploy(ctx context.Context, s VnfcSpec) (vim.Instance, error) {
	if s.VDU.Program == nil {
		return vim.Instance{}, fmt.Errorf("vnfm: VDU %s has no program for the local VIM", s.VDU.ID)
	}
	vcpu, mem := s.VNFD.Compute(s.VDU.ID)
	env := m.Env(s)
	spec := vim.InstanceSpec{
		Name:     s.Name,
		Site:     s.Site,
		Program:  s.VDU.Program.Path,
		Env:      env,
		VCPU:     vcpu,
		MemoryMB: mem,
		Tags:     s.Tags(),
	}
	for _, a := range s.VDU.Program.Args {
		spec.Args = append(spec.Args, expand(a, env))
	}
	for _, cp := range s.VDU.IntCpds {
		p, ok := s.Ports[cp.ID]
		if !ok {
			return vim.Instance{}, fmt.Errorf("vnfm: no network for connection point %s of %s", cp.ID, s.Name)
		}
		spec.Ports = append(spec.Ports, vim.PortSpec{Name: cp.ID, Network: p.Network, IP: p.IP, LogicalPort: p.LogicalPort, MAC: p.MAC,
			Anycast: p.Anycast, TunnelsFrom: p.TunnelsFrom, Forwarder: p.Forwarder})
	}
	// The bindings file exists before the program starts, so it never reads
	// a half state.
	if _, err := os.Stat(m.BindingsPath(s.Name)); os.IsNotExist(err) {
		if err := m.WriteBindings(s.Name, Bindings{}); err != nil {
			return vim.Instance{}, err
		}
	}
	inst, err := m.vim.CreateInstance(ctx, spec)
	if err != nil {
		return vim.Instance{}, fmt.Errorf("vnfm: create %s: %w", s.Name, err)
	}
	return inst, nil
}

// Remove stops the instance, gracefully first, and deletes its files.
func (m *Manager) Remove(ctx context.Context, name string, grace time.Duration) error {
	if err := m.vim.DeleteInstance(ctx, name, grace); err != nil {
		return fmt.Errorf("vnfm: delete %s: %w", name, err)
	}
	if err := os.Remove(m.BindingsPath(name)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("vnfm: remove bindings of %s: %w", name, err)
	}
	return nil
}

// Instances lists the VIM instances of an NS instance (all of stitch's when
// nsID is empty).
func (m *Manager) Instances(ctx context.Context, nsID string) ([]vim.Instance, error) {
	sel := vim.Tags{}
	if nsID != "" {
		sel[vim.TagNSInstance] = nsID
	}
	all, err := m.vim.ListInstances(ctx, sel)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, in := range all {
		if in.Tags[vim.TagNSInstance] != "" {
			out = append(out, in)
		}
	}
	return out, nil
}

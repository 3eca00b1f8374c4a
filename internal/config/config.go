// Package config reads the daemon's configuration: where it listens, where
// it keeps state, and the sites of its VIM. The embedded default runs a
// two-site lab (edge and core) on this host.
package config

import (
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"regexp"
	"time"

	"sigs.k8s.io/yaml"
)

//go:embed default.yaml
var defaultYAML []byte

// Config is the daemon's configuration file.
type Config struct {
	Listen   string `json:"listen"`
	StateDir string `json:"state-dir"`
	LogLevel string `json:"log-level,omitempty"`
	VIM      VIM    `json:"vim"`
	// HealthTimeout bounds the wait for one instance to become healthy.
	HealthTimeout Duration `json:"health-timeout,omitempty"`
	// DefaultGrace is how long an instance may take to stop gracefully.
	DefaultGrace Duration `json:"default-grace,omitempty"`
	// DrainTimeout bounds how long a scale-in waits for the sessions of
	// the instances it removes to end (no new session reaches them).
	DrainTimeout Duration `json:"drain-timeout,omitempty"`
	// ProgramPath lists directories searched for VDU programs before $PATH.
	ProgramPath []string `json:"program-path,omitempty"`
	Network     Network  `json:"network,omitempty"`
	// ServiceRouter runs stitch's service router in front of every
	// service access point on the OVN fabric (see ServiceRouter).
	ServiceRouter ServiceRouter `json:"service-router,omitempty"`
	// InterDomain turns on inter-domain service routing (see
	// InterDomain); absent, it is off.
	InterDomain *InterDomain `json:"interdomain,omitempty"`
}

// Network selects how the local VIM wires instances.
type Network struct {
	// Fabric is "bridge" (Linux bridges, the VIM routes) or "ovn" (each
	// site an OVN chassis; stitch renders every NS into OVN).
	Fabric string `json:"fabric,omitempty"`
	OVN    OVN    `json:"ovn,omitempty"`
}

// OVN locates the OVN central databases. With both empty, stitchd runs
// its own (NB and SB ovsdb-servers and ovn-northd) under the state dir.
type OVN struct {
	Northbound string `json:"northbound,omitempty"` // e.g. tcp:10.0.0.1:6641
	Southbound string `json:"southbound,omitempty"` // e.g. tcp:10.0.0.1:6642
	// Underlay is the tunnel network the VIM builds between sites that
	// are not given an existing namespace.
	Underlay string `json:"underlay,omitempty"`
}

// Embedded reports whether stitchd runs the OVN central itself.
func (o OVN) Embedded() bool { return o.Northbound == "" && o.Southbound == "" }

// VIM selects and configures the VIM driver.
type VIM struct {
	Type   string `json:"type"` // local
	Prefix string `json:"prefix"`
	Sites  []Site `json:"sites"`
}

// Site is one execution zone of the local VIM.
type Site struct {
	Name     string            `json:"name"`
	Capacity Capacity          `json:"capacity,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	// NetNS makes an existing network namespace (a lab node) the site;
	// EncapIP is then its tunnel address on the OVN fabric.
	NetNS   string `json:"netns,omitempty"`
	EncapIP string `json:"encap-ip,omitempty"`
}

// Capacity of a site; zero means unlimited.
type Capacity struct {
	VCPU      int `json:"vcpu,omitempty"`
	MemoryMB  int `json:"memory-mb,omitempty"`
	Instances int `json:"instances,omitempty"`
}

// Fabrics of Network.Fabric.
const (
	FabricBridge = "bridge"
	FabricOVN    = "ovn"
)

func (n Network) validate() []error {
	var errs []error
	switch n.Fabric {
	case "", FabricBridge, FabricOVN:
	default:
		errs = append(errs, fmt.Errorf("network.fabric: %q is not bridge or ovn", n.Fabric))
	}
	if (n.OVN.Northbound == "") != (n.OVN.Southbound == "") {
		errs = append(errs, errors.New("network.ovn: give both northbound and southbound, or neither to run them embedded"))
	}
	for _, r := range []struct{ field, v string }{{"northbound", n.OVN.Northbound}, {"southbound", n.OVN.Southbound}} {
		if r.v != "" && !ovsdbRemote.MatchString(r.v) {
			errs = append(errs, fmt.Errorf("network.ovn.%s: %q is not an OVSDB remote (tcp:IP:PORT, ssl:IP:PORT or unix:PATH)", r.field, r.v))
		}
	}
	if n.OVN.Underlay != "" {
		if p, err := netip.ParsePrefix(n.OVN.Underlay); err != nil || !p.Addr().Is4() || p.Bits() > 28 {
			errs = append(errs, fmt.Errorf("network.ovn.underlay: %q must be an IPv4 prefix of /28 or larger", n.OVN.Underlay))
		}
	}
	return errs
}

var ovsdbRemote = regexp.MustCompile(`^(tcp|ssl):[^\s]+:[0-9]+$|^unix:/[^\s]*$`)

// Duration reads "5s"-style durations.
type Duration time.Duration

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := yaml.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"5s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// Default returns the embedded configuration.
func Default() Config {
	var c Config
	if err := yaml.UnmarshalStrict(defaultYAML, &c); err != nil {
		panic("embedded default config is invalid: " + err.Error())
	}
	return c
}

// Load reads a configuration file; fields it leaves out keep the embedded
// defaults.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

var siteName = regexp.MustCompile(`^[a-z][a-z0-9]{0,9}$`)

// Parse decodes a configuration over the defaults and validates it. A list
// given in the file (such as vim.sites) replaces the default one.
func Parse(b []byte) (Config, error) {
	c := Default()
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return Config{}, err
	}
	return c, c.Validate()
}

// Validate reports every problem of the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Listen == "" {
		errs = append(errs, errors.New("listen: required"))
	}
	if c.StateDir == "" {
		errs = append(errs, errors.New("state-dir: required"))
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); c.LogLevel != "" && err != nil {
		errs = append(errs, fmt.Errorf("log-level: %q is not one of debug, info, warn, error", c.LogLevel))
	}
	if c.VIM.Type != "local" {
		errs = append(errs, fmt.Errorf("vim.type: %q is not supported (local)", c.VIM.Type))
	}
	seen := map[string]bool{}
	for i, s := range c.VIM.Sites {
		if !siteName.MatchString(s.Name) {
			errs = append(errs, fmt.Errorf("vim.sites[%d].name: %q must be 1-10 lowercase letters or digits, starting with a letter", i, s.Name))
		}
		if seen[s.Name] {
			errs = append(errs, fmt.Errorf("vim.sites[%d].name: duplicate site %q", i, s.Name))
		}
		seen[s.Name] = true
		if s.Capacity.VCPU < 0 || s.Capacity.MemoryMB < 0 || s.Capacity.Instances < 0 {
			errs = append(errs, fmt.Errorf("vim.sites[%d].capacity: must not be negative", i))
		}
		if s.EncapIP != "" {
			if _, err := netip.ParseAddr(s.EncapIP); err != nil {
				errs = append(errs, fmt.Errorf("vim.sites[%d].encap-ip: %w", i, err))
			}
		}
		if (s.NetNS == "") != (s.EncapIP == "") && c.Network.Fabric == FabricOVN {
			errs = append(errs, fmt.Errorf("vim.sites[%d]: netns and encap-ip go together on the ovn fabric", i))
		}
	}
	errs = append(errs, c.Network.validate()...)
	errs = append(errs, c.ServiceRouter.validate()...)
	if c.InterDomain != nil {
		errs = append(errs, c.InterDomain.validate()...)
	}
	return errors.Join(errs...)
}

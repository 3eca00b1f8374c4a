// Package config reads the daemon's configuration: where it listens, where
// it keeps state, and the sites of its VIM. The embedded default runs a
// two-site lab (edge and core) on this host.
package config

import (
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
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
	// ProgramPath lists directories searched for VDU programs before $PATH.
	ProgramPath []string `json:"program-path,omitempty"`
}

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
}

// Capacity of a site; zero means unlimited.
type Capacity struct {
	VCPU      int `json:"vcpu,omitempty"`
	MemoryMB  int `json:"memory-mb,omitempty"`
	Instances int `json:"instances,omitempty"`
}

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
	}
	return errors.Join(errs...)
}

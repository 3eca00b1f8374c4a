package samplekit

import (
	"fmt"
	"io"
	"log/slog"
)

// Runtime is what the parts of one running sample program share.
type Runtime struct {
	Role     string
	Config   Config
	Logger   *slog.Logger
	Stats    *Stats
	Bindings *Bindings
}

// DefaultInstanceID names an instance started outside stitch, so traces
// still read "role:local".
const DefaultInstanceID = "local"

// NewRuntime reads the environment contract and loads the bindings.
// logger already carries the program's handler; NewRuntime adds the role
// and instance to every record.
func NewRuntime(role string, env []string, logger *slog.Logger) (*Runtime, error) {
	cfg, err := ConfigFromEnv(env)
	if err != nil {
		return nil, fmt.Errorf("environment: %w", err)
	}
	if cfg.InstanceID == "" {
		cfg.InstanceID = DefaultInstanceID
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("role", role, "instance", cfg.InstanceID)
	return &Runtime{
		Role:     role,
		Config:   cfg,
		Logger:   logger,
		Stats:    &Stats{},
		Bindings: NewBindings(cfg.BindingsPath, logger),
	}, nil
}

// Hop is this instance's entry in X-Stitch-Trace.
func (rt *Runtime) Hop() string { return Hop(rt.Role, rt.Config.InstanceID) }

// NewLogger returns the structured logger the programs use: JSON lines on
// w (stderr), which the local VIM keeps per instance.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

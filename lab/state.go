package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// labState is what a deployed lab leaves in its state directory, enough to
// inspect and destroy it from another process. It is rewritten after every
// namespace created, so Destroy after a crash mid-deploy finds everything.
type labState struct {
	Name     string      `json:"name"`
	NSPrefix string      `json:"ns_prefix"`
	Complete bool        `json:"complete"`
	Nodes    []nodeState `json:"nodes"`
	Links    []linkState `json:"links"`
	Warnings []string    `json:"warnings,omitempty"`
	// Namespaces this lab created, in creation order.
	Namespaces []string `json:"namespaces"`
	// Containerlab is set for a lab handed to containerlab, deployed from
	// File; containerlab owns its containers and namespaces.
	Containerlab bool              `json:"containerlab,omitempty"`
	File         string            `json:"file,omitempty"`
	Env          map[string]string `json:"env,omitempty"`
}

type nodeState struct {
	Name  string `json:"name"`
	Kind  string `json:"kind"`
	Site  string `json:"site,omitempty"`
	NetNS string `json:"netns"`
	PID   int    `json:"pid,omitempty"`
	Log   string `json:"log,omitempty"`
}

type linkState struct {
	A   string     `json:"a"`
	B   string     `json:"b"`
	WAN Impairment `json:"wan"`
	// Applied is false when the impairment (beyond rate) could not be
	// put on the link and the caller allowed that.
	Applied bool `json:"applied"`
	// WANNetNS, RelayPID and RelayStart (clock ticks since boot, from
	// /proc/<pid>/stat) are set for a link carried by stitch-wanrelay;
	// pid and start time together identify the process to kill.
	WANNetNS   string `json:"wan_netns,omitempty"`
	RelayPID   int    `json:"relay_pid,omitempty"`
	RelayStart uint64 `json:"relay_start,omitempty"`
	RelayLog   string `json:"relay_log,omitempty"`
	// RelayBin is the relay binary, to restart a relay that died.
	RelayBin string `json:"relay_bin,omitempty"`
}

const stateFile = "state.json"

// reserveLabDir creates the lab's state directory; its existence is what
// "deployed" means, and Mkdir being atomic keeps two deploys apart.
func reserveLabDir(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("create state dir: %w", err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ErrAlreadyDeployed
		}
		return fmt.Errorf("create lab state dir: %w", err)
	}
	return nil
}

func writeState(dir string, st *labState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode lab state: %w", err)
	}
	tmp := filepath.Join(dir, stateFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, stateFile)); err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	return nil
}

// readState reads a lab's state; ErrNotDeployed if there is no such lab.
// A directory without a state file (a crash right after reserving it)
// reads as an empty state, so Destroy can still clear it.
func readState(dir string) (*labState, error) {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotDeployed
	}
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return &labState{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lab state: %w", err)
	}
	var st labState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("decode lab state %s: %w", dir, err)
	}
	return &st, nil
}

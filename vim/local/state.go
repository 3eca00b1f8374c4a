package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/stitchnfv/stitch/vim"
)

// The driver's durable state: one JSON record per instance and per network
// under StateDir. A record is written (status PENDING) before any kernel
// object of it is created and updated afterwards, so a crash at any point
// leaves a record that names everything that may exist.

const (
	netPending = "PENDING"
	netReady   = "READY"
)

type instanceRecord struct {
	Name      string            `json:"name"`
	Site      string            `json:"site"`
	Status    vim.Status        `json:"status"`
	ExitCode  int               `json:"exitCode"`
	Program   string            `json:"program"` // resolved absolute path
	Args      []string          `json:"args,omitempty"`
	Env       map[string]string `json:"env,omitempty"`
	VCPU      int               `json:"vcpu,omitempty"`
	MemoryMB  int               `json:"memoryMB,omitempty"`
	Tags      vim.Tags          `json:"tags,omitempty"`
	NetNS     string            `json:"netns"`
	Cgroup    string            `json:"cgroup,omitempty"` // leaf name; empty without cgroups
	Ports     []portRecord      `json:"ports,omitempty"`
	PID       int               `json:"pid,omitempty"`
	StartTime uint64            `json:"startTime,omitempty"` // field 22 of /proc/PID/stat
	Created   time.Time         `json:"created"`
	LogPath   string            `json:"logPath"`
}

type portRecord struct {
	Name      string `json:"name"`
	Network   string `json:"network"`
	IP        string `json:"ip"`
	MAC       string `json:"mac,omitempty"`
	Iface     string `json:"iface"`     // inside the instance: eth0, eth1…
	HostIface string `json:"hostIface"` // site end of the veth
	// LogicalPort is the OVN logical port the site end is bound to (OVN
	// fabric).
	LogicalPort string `json:"logicalPort,omitempty"`
	// Anycast addresses the instance answers behind the service routers
	// of TunnelsFrom (vim.PortSpec).
	Anycast     []string `json:"anycast,omitempty"`
	TunnelsFrom []string `json:"tunnelsFrom,omitempty"`
	Forwarder   bool     `json:"forwarder,omitempty"`
}

func (r *instanceRecord) clone() instanceRecord {
	c := *r
	c.Args = append([]string(nil), r.Args...)
	c.Env = cloneMap(r.Env)
	c.Tags = vim.Tags(cloneMap(r.Tags))
	c.Ports = append([]portRecord(nil), r.Ports...)
	for i := range c.Ports {
		c.Ports[i].Anycast = slices.Clone(c.Ports[i].Anycast)
		c.Ports[i].TunnelsFrom = slices.Clone(c.Ports[i].TunnelsFrom)
	}
	return c
}

type networkRecord struct {
	Name   string          `json:"name"`
	CIDR   string          `json:"cidr"`
	Sites  []string        `json:"sites"`
	Tags   vim.Tags        `json:"tags,omitempty"`
	Status string          `json:"status"`
	Bridge string          `json:"bridge"`
	Links  []interSiteLink `json:"links,omitempty"`
	// Access lists the sites' access ports (OVN fabric; Bridge and Links
	// are empty then).
	Access  []accessRecord `json:"access,omitempty"`
	Created time.Time      `json:"created"`
}

// accessRecord is a site's OVS internal port on an OVN network.
type accessRecord struct {
	Site        string `json:"site"`
	LogicalPort string `json:"logicalPort"`
	Iface       string `json:"iface"`
	IP          string `json:"ip"`
	MAC         string `json:"mac"`
}

// interSiteLink is the veth pair stretching a network from Site to the
// network's first site (Peer).
type interSiteLink struct {
	Site      string `json:"site"`
	Iface     string `json:"iface"`
	Peer      string `json:"peer"`
	PeerIface string `json:"peerIface"`
}

func (r *networkRecord) clone() networkRecord {
	c := *r
	c.Sites = append([]string(nil), r.Sites...)
	c.Tags = vim.Tags(cloneMap(r.Tags))
	c.Links = append([]interSiteLink(nil), r.Links...)
	c.Access = append([]accessRecord(nil), r.Access...)
	return c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

type store struct {
	dir string
}

func (s store) instancesDir() string { return filepath.Join(s.dir, "instances") }
func (s store) networksDir() string  { return filepath.Join(s.dir, "networks") }
func (s store) logsDir() string      { return filepath.Join(s.dir, "logs") }

func (s store) instancePath(name string) string {
	return filepath.Join(s.instancesDir(), name+".json")
}
func (s store) networkPath(name string) string {
	return filepath.Join(s.networksDir(), name+".json")
}
func (s store) logPath(name string) string { return filepath.Join(s.logsDir(), name+".log") }

func (s store) init() error {
	for _, d := range []string{s.instancesDir(), s.networksDir(), s.logsDir()} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return fmt.Errorf("state dir: %w", err)
		}
	}
	return nil
}

// writeJSON replaces path atomically and durably: temp file, fsync, rename,
// fsync of the directory.
func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}

// removeFile removes path durably; a missing file is not an error.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// loadRecords decodes every *.json in dir into a new T; leftover temp files
// of an interrupted write are removed.
func loadRecords[T any](dir string) ([]*T, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	var out []*T
	for _, e := range entries {
		name := e.Name()
		if strings.Contains(name, ".json.tmp-") {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		if e.IsDir() || !strings.HasSuffix(name, ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", name, err)
		}
		v := new(T)
		if err := json.Unmarshal(data, v); err != nil {
			return nil, fmt.Errorf("load %s: %w", filepath.Join(dir, name), err)
		}
		out = append(out, v)
	}
	return out, nil
}

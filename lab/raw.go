package lab

import (
	"fmt"

	yaml "go.yaml.in/yaml/v2"
)

// The raw* types mirror the part of containerlab's topology schema that
// stitch uses (see doc.go for why they are mirrored, not imported). Unknown
// fields are ignored so files written for containerlab's other kinds parse.

type rawFile struct {
	Name     string      `yaml:"name"`
	Prefix   *string     `yaml:"prefix"`
	Mgmt     *rawMgmt    `yaml:"mgmt"`
	Topology rawTopology `yaml:"topology"`
}

type rawMgmt struct {
	Network    string `yaml:"network"`
	Bridge     string `yaml:"bridge"`
	IPv4Subnet string `yaml:"ipv4-subnet"`
	IPv6Subnet string `yaml:"ipv6-subnet"`
}

type rawTopology struct {
	Defaults *rawNode            `yaml:"defaults"`
	Kinds    map[string]*rawNode `yaml:"kinds"`
	Groups   map[string]*rawNode `yaml:"groups"`
	Nodes    map[string]*rawNode `yaml:"nodes"`
	Links    []*rawLink          `yaml:"links"`
}

type rawNode struct {
	Kind     string            `yaml:"kind"`
	Group    string            `yaml:"group"`
	Type     string            `yaml:"type"`
	Image    string            `yaml:"image"`
	Cmd      string            `yaml:"cmd"`
	Exec     []string          `yaml:"exec"`
	Env      map[string]string `yaml:"env"`
	Binds    []string          `yaml:"binds"`
	Labels   map[string]string `yaml:"labels"`
	MgmtIPv4 string            `yaml:"mgmt-ipv4"`
	MgmtIPv6 string            `yaml:"mgmt-ipv6"`
}

type rawLink struct {
	Type      string            `yaml:"type"`
	Endpoints []rawEndpoint     `yaml:"endpoints"`
	MTU       int               `yaml:"mtu"`
	Vars      map[string]any    `yaml:"vars"`
	Labels    map[string]string `yaml:"labels"`
}

// UnmarshalYAML reads labels leniently: containerlab writes label values
// as strings, but a file may say `stitch.wan.loss: 1` (a number).
func (l *rawLink) UnmarshalYAML(unmarshal func(any) error) error {
	type plain struct {
		Type      string         `yaml:"type"`
		Endpoints []rawEndpoint  `yaml:"endpoints"`
		MTU       int            `yaml:"mtu"`
		Vars      map[string]any `yaml:"vars"`
		Labels    map[string]any `yaml:"labels"`
	}
	var p plain
	if err := unmarshal(&p); err != nil {
		return err
	}
	*l = rawLink{Type: p.Type, Endpoints: p.Endpoints, MTU: p.MTU, Vars: p.Vars}
	if p.Labels != nil {
		l.Labels = make(map[string]string, len(p.Labels))
		for k, v := range p.Labels {
			l.Labels[k] = fmt.Sprint(v)
		}
	}
	return nil
}

// rawEndpoint is either the short form "node:interface" or the extended
// form {node, interface, mac}.
type rawEndpoint struct {
	Short     string // set for the short form
	IsShort   bool
	Node      string
	Interface string
	MAC       string
}

func (e *rawEndpoint) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err == nil {
		*e = rawEndpoint{Short: s, IsShort: true}
		return nil
	}
	var ext struct {
		Node      string `yaml:"node"`
		Interface string `yaml:"interface"`
		MAC       string `yaml:"mac"`
	}
	if err := unmarshal(&ext); err != nil {
		return fmt.Errorf("endpoint: want \"node:interface\" or {node, interface}: %w", err)
	}
	*e = rawEndpoint{Node: ext.Node, Interface: ext.Interface, MAC: ext.MAC}
	return nil
}

// decodeRaw parses the (already substituted) YAML text. It also reports
// duplicate node names, which a plain map decode would silently merge.
func decodeRaw(data []byte) (*rawFile, []Problem, error) {
	var f rawFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, nil, err
	}
	var dup struct {
		Topology struct {
			Nodes yaml.MapSlice `yaml:"nodes"`
		} `yaml:"topology"`
	}
	var probs []Problem
	if err := yaml.Unmarshal(data, &dup); err == nil {
		seen := map[string]bool{}
		for _, item := range dup.Topology.Nodes {
			name := fmt.Sprint(item.Key)
			if seen[name] {
				probs = append(probs, Problem{Path: "topology.nodes." + name, Msg: "duplicate node name"})
			}
			seen[name] = true
		}
	}
	return &f, probs, nil
}

// Package vim defines the one small interface stitch needs from a virtual
// infrastructure manager. Drivers: vim/local (network namespaces and
// processes, the embedded default); an OpenStack driver fits the same shape.
package vim

import (
	"context"
	"errors"
	"net"
	"time"
)

// Errors drivers return; callers check them with errors.Is.
var (
	ErrNotFound    = errors.New("vim: not found")
	ErrUnknownSite = errors.New("vim: unknown site")
	ErrNoCapacity  = errors.New("vim: no capacity left")
	ErrInvalid     = errors.New("vim: invalid request")
)

// Tag keys every resource stitch creates carries, so a sweeper can prove
// nothing leaked.
const (
	TagNSInstance = "stitch.ns-instance"
	TagOperation  = "stitch.op"
	TagVnfProfile = "stitch.vnf-profile"
	TagVdu        = "stitch.vdu"
)

// Tags label a VIM resource.
type Tags map[string]string

// Matches reports whether t holds every key/value of sel.
func (t Tags) Matches(sel Tags) bool {
	for k, v := range sel {
		if t[k] != v {
			return false
		}
	}
	return true
}

// Site is an execution zone and what it can still host.
type Site struct {
	Name     string
	Capacity Resources
	Used     Resources
	Labels   map[string]string
}

// Resources is compute capacity; Instances bounds the count regardless of
// size.
type Resources struct {
	VCPU      int
	MemoryMB  int
	Instances int
}

// NetworkSpec asks for an L2 network with a subnet. Sites lists where it must
// be reachable; a network spanning several sites is stretched between them.
// Name is the idempotency key: ensuring an existing name returns it.
type NetworkSpec struct {
	Name  string
	CIDR  string
	Sites []string
	Tags  Tags
	// AccessPorts names, per site, the logical port the site's own access
	// interface (what DialContext dials from) binds to on a fabric that
	// binds interfaces to an SDN's logical ports (vim/local with OVN).
	// Other fabrics ignore it.
	AccessPorts map[string]string
}

type Network struct {
	ID    string
	Name  string
	CIDR  string
	Sites []string
	Tags  Tags
	// Gateway is the address an orchestrator must give a logical router on
	// this network: instances route through it. Empty when the VIM routes
	// between its networks itself (vim/local with Linux bridges).
	Gateway string
	// Access lists the sites' access interfaces on a binding fabric, for
	// the orchestrator to give them logical ports.
	Access []AccessPort
}

// AccessPort is a site's own interface on a network.
type AccessPort struct {
	Site        string
	LogicalPort string
	IP          string
	MAC         string
}

// PortSpec attaches an instance to a network. IP is optional: the driver
// allocates the lowest free address when empty.
type PortSpec struct {
	Name    string // the connection point id (becomes the interface's purpose)
	Network string // Network.ID
	IP      string
	// LogicalPort is the SDN logical port the interface binds to (OVN's
	// external_ids:iface-id) on a binding fabric; ignored by others.
	LogicalPort string
	// MAC is optional: the driver picks one when empty. An orchestrator
	// that renders the logical port before the instance exists sets it.
	MAC string
	// Anycast lists the service addresses the instance answers on this
	// port behind a service router (direct server return): the driver
	// makes them local addresses of the instance and opens, on this
	// interface, the IP-in-IP tunnels of the routers in TunnelsFrom (and
	// only theirs). Drivers that cannot do it refuse the spec.
	Anycast     []string
	TunnelsFrom []string
	// Forwarder marks the port of an instance that sends frames back out
	// of the interface they arrived on from XDP (a service router's
	// XDP_TX): the driver readies the link's other end to take them.
	Forwarder bool
}

type Port struct {
	Name        string
	Network     string
	IP          string
	MAC         string
	Iface       string // interface name inside the instance
	LogicalPort string
}

// InstanceSpec asks for one compute instance. Name is the idempotency key.
// Program is used by process-based drivers, Image/Flavor by cloud drivers.
type InstanceSpec struct {
	Name     string
	Site     string
	Program  string
	Args     []string
	Env      map[string]string
	Image    string
	Flavor   string
	VCPU     int
	MemoryMB int
	Ports    []PortSpec
	Tags     Tags
}

// Status is an instance's lifecycle state as the VIM sees it.
type Status string

const (
	StatusPending Status = "PENDING"
	StatusRunning Status = "RUNNING"
	StatusExited  Status = "EXITED"
	StatusError   Status = "ERROR"
)

type Instance struct {
	ID       string
	Name     string
	Site     string
	Status   Status
	ExitCode int
	Ports    []Port
	Tags     Tags
	Created  time.Time
	// LogPath is where the driver keeps the instance's output, when it does.
	LogPath string
}

// Driver is a VIM. All calls are idempotent where the doc says so and safe
// for concurrent use. Instance and network IDs are their names: stitch gives
// every resource a name unique within the VIM, and a driver whose cloud
// assigns ids of its own maps names to them.
type Driver interface {
	Sites(ctx context.Context) ([]Site, error)

	// EnsureNetwork creates the network or returns the existing one of that
	// name.
	EnsureNetwork(ctx context.Context, spec NetworkSpec) (Network, error)
	DeleteNetwork(ctx context.Context, id string) error
	ListNetworks(ctx context.Context, sel Tags) ([]Network, error)

	// CreateInstance starts an instance or returns the existing one of that
	// name.
	CreateInstance(ctx context.Context, spec InstanceSpec) (Instance, error)
	GetInstance(ctx context.Context, id string) (Instance, error)
	ListInstances(ctx context.Context, sel Tags) ([]Instance, error)
	// DeleteInstance stops the instance gracefully, forcibly after grace,
	// and frees everything it held. Deleting a missing instance is not an
	// error.
	DeleteInstance(ctx context.Context, id string, grace time.Duration) error

	// DialContext opens a connection from inside a site's data network, as a
	// client of the services on it would (health checks, demo traffic).
	DialContext(ctx context.Context, site, network, address string) (net.Conn, error)

	Close() error
}

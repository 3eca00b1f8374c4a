package config

import "fmt"

// ServiceRouter configures the service router stitch puts in front of every
// service access point with an entry, an address and a port (OVN fabric
// only; on bridges the SAP's address is not served).
type ServiceRouter struct {
	// Mode is how the router attaches to its interface: native (XDP in
	// the veth driver, the default), generic (XDP on the kernel's generic
	// path), userspace (no XDP: frames through an AF_PACKET socket), or
	// off (OVN's load balancer serves the SAP, without session slots).
	Mode string `json:"mode,omitempty"`
	// Program is the router's executable, looked up like VDU programs.
	Program string `json:"program,omitempty"`
	// MemoryMB is the router's cgroup limit (its BPF maps count).
	MemoryMB int `json:"memory-mb,omitempty"`
}

// Service router modes.
const (
	RouterNative    = "native"
	RouterGeneric   = "generic"
	RouterUserspace = "userspace"
	RouterOff       = "off"
)

// Enabled reports whether the router serves SAPs on fabric.
func (r ServiceRouter) Enabled(fabric string) bool {
	return r.Mode != RouterOff && fabric == FabricOVN
}

func (r ServiceRouter) validate() []error {
	var errs []error
	switch r.Mode {
	case "", RouterNative, RouterGeneric, RouterUserspace, RouterOff:
	default:
		errs = append(errs, fmt.Errorf("service-router.mode: %q is not native, generic, userspace or off", r.Mode))
	}
	if r.MemoryMB < 0 {
		errs = append(errs, fmt.Errorf("service-router.memory-mb: %d is negative", r.MemoryMB))
	}
	return errs
}

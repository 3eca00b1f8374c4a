package control

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/stitchnfv/stitch/servicerouter"
	"github.com/stitchnfv/stitch/xdp"
)

// desired is a validated PUT: the router's services and who drains.
type desired struct {
	services []servicerouter.Service
	draining []map[string]bool // by instance id, parallel to services
}

// families says which tunnel families the data plane can encapsulate in
// (it has a router address of that family); nil checks none.
type families map[int]bool

// convert validates the whole desired set and turns it into the router's
// types; every problem is reported with its field path.
func convert(svcs []Service, fam families) (desired, error) {
	var (
		d       desired
		errs    []error
		names   = map[string]int{}
		vips    = map[xdp.VIP]string{}
		backend int
	)
	for i, s := range svcs {
		path := fmt.Sprintf("services[%d]", i)
		rs, drain, err := convertService(path, s, fam)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if j, dup := names[s.Name]; dup {
			errs = append(errs, fmt.Errorf("%s.name: %q is also services[%d]", path, s.Name, j))
		}
		names[s.Name] = i
		if other, dup := vips[rs.VIP]; dup {
			errs = append(errs, fmt.Errorf("%s: VIP %s:%d/%s is also service %q's", path, s.VIP, s.Port, s.Protocol, other))
		}
		vips[rs.VIP] = s.Name
		backend += len(rs.Instances)
		if rs.Overflow != nil {
			backend++
		}
		d.services = append(d.services, rs)
		d.draining = append(d.draining, drain)
	}
	if len(svcs) > xdp.MaxVIPs {
		errs = append(errs, fmt.Errorf("services: %d, at most %d", len(svcs), xdp.MaxVIPs))
	}
	if backend > xdp.MaxBackends {
		errs = append(errs, fmt.Errorf("services: %d instances in all, at most %d", backend, xdp.MaxBackends))
	}
	if err := errors.Join(errs...); err != nil {
		return desired{}, err
	}
	return d, nil
}

func convertService(path string, s Service, fam families) (servicerouter.Service, map[string]bool, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: "+format, append([]any{path, field}, args...)...))
	}
	if s.Name == "" {
		bad("name", "required")
	}
	vip, err := parseAddr(s.VIP)
	if err != nil {
		bad("vip", "%v", err)
	}
	if s.Port == 0 {
		bad("port", "required (1-65535)")
	}
	proto, ok := map[string]xdp.Proto{TCP: xdp.TCP, UDP: xdp.UDP}[s.Protocol]
	if !ok {
		bad("protocol", "%q: want %q or %q", s.Protocol, TCP, UDP)
	}
	rs := servicerouter.Service{Name: s.Name, VIP: xdp.VIP{Addr: vip, Port: s.Port, Proto: proto}, ICMPUnreachable: s.ICMPUnreachable}
	drain := map[string]bool{}
	seen := map[string]string{}
	for j, in := range s.Instances {
		p := fmt.Sprintf("%s.instances[%d]", path, j)
		ri, err := convertInstance(p, in, seen, fam)
		errs = append(errs, err)
		rs.Instances = append(rs.Instances, ri)
		drain[in.ID] = in.Draining
	}
	if s.Overflow != nil {
		p := path + ".overflow"
		ri, err := convertInstance(p, *s.Overflow, seen, fam)
		errs = append(errs, err)
		if s.Overflow.Draining {
			errs = append(errs, fmt.Errorf("%s.draining: an overflow takes no table share to drain; remove it instead", p))
		}
		rs.Overflow = &ri
	}
	if err := errors.Join(errs...); err != nil {
		return servicerouter.Service{}, nil, err
	}
	return rs, drain, nil
}

// convertInstance checks one instance; seen maps the ids met so far in
// its service to their path.
func convertInstance(path string, in Instance, seen map[string]string, fam families) (servicerouter.Instance, error) {
	var errs []error
	switch other, dup := seen[in.ID]; {
	case in.ID == "":
		errs = append(errs, fmt.Errorf("%s.id: required", path))
	case dup:
		errs = append(errs, fmt.Errorf("%s.id: %q is also %s", path, in.ID, other))
	default:
		seen[in.ID] = path
	}
	addr, err := parseAddr(in.Address)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s.address: %w", path, err))
	} else if fam != nil && !fam[family(addr)] {
		errs = append(errs, fmt.Errorf("%s.address: %s: the router has no IPv%d address to tunnel from", path, addr, family(addr)))
	}
	mac, err := net.ParseMAC(in.MAC)
	if err == nil && len(mac) != 6 {
		err = errors.New("want a 6-byte Ethernet address")
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("%s.mac: %q: %w", path, in.MAC, err))
	}
	return servicerouter.Instance{ID: in.ID, Addr: addr, NextHopMAC: mac}, errors.Join(errs...)
}

// parseAddr accepts a unicast IP literal without zone; IPv4-mapped IPv6
// becomes IPv4, as the data plane keys it.
func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	switch {
	case s == "":
		return netip.Addr{}, errors.New("required")
	case err != nil:
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	case a.Zone() != "":
		return netip.Addr{}, fmt.Errorf("%q: no zone allowed", s)
	}
	a = a.Unmap()
	if a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() {
		return netip.Addr{}, fmt.Errorf("%q: want a unicast address", s)
	}
	return a, nil
}

func family(a netip.Addr) int {
	if a.Is4() {
		return 4
	}
	return 6
}

func protocolName(p xdp.Proto) string {
	switch p {
	case xdp.TCP:
		return TCP
	case xdp.UDP:
		return UDP
	}
	return fmt.Sprintf("proto-%d", p)
}

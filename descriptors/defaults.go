package descriptors

import "time"

// Defaults for what a descriptor may leave out.
const (
	DefaultVersion          = "1.0"
	DefaultProtocol         = "tcp"
	DefaultHealthInterval   = Duration(time.Second)
	DefaultHealthTimeout    = Duration(time.Second)
	DefaultFailureThreshold = 3
)

// SetDefaults fills in what a VNFD may leave out. Parse calls it; code that
// builds descriptors in Go should call it before validating. It is
// idempotent. A vnf-profile's empty flavour-id is deliberately left empty
// (see VNFD.Flavour), so that writing the descriptor back keeps it
// following the VNFD's first flavour.
func (v *VNFD) SetDefaults() {
	if v.Kind == "" {
		v.Kind = KindVNF // SOL006 documents have no kind
	}
	if v.Version == "" {
		v.Version = DefaultVersion
	}
	for i := range v.VDUs {
		if hc := v.VDUs[i].HealthCheck; hc != nil {
			hc.setDefaults()
		}
	}
	for i := range v.ExtCpds {
		for j := range v.ExtCpds[i].Ports {
			if p := &v.ExtCpds[i].Ports[j]; p.Protocol == "" {
				p.Protocol = DefaultProtocol
			}
		}
	}
}

func (hc *HealthCheck) setDefaults() {
	if hc.Interval == 0 {
		hc.Interval = DefaultHealthInterval
	}
	if hc.Timeout == 0 {
		hc.Timeout = DefaultHealthTimeout
	}
	if hc.FailureThreshold == 0 {
		hc.FailureThreshold = DefaultFailureThreshold
	}
}

// SetDefaults fills in what an NSD may leave out; see VNFD.SetDefaults.
func (n *NSD) SetDefaults() {
	if n.Version == "" {
		n.Version = DefaultVersion
	}
	for i := range n.Sapds {
		// Only a SAP with a port is a service address that needs a protocol;
		// a plain SOL006 SAP stays as written.
		if s := &n.Sapds[i]; s.Port != 0 && s.Protocol == "" {
			s.Protocol = DefaultProtocol
		}
	}
}

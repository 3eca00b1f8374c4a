// Package descriptors holds stitch's data model for VNF, microservice and
// network-service descriptors. Field names follow ETSI SOL006 (as OSM
// publishes it); stitch's own extensions are marked as such.
package descriptors

// Kind tells a network function from a cloud microservice; both share one
// descriptor model (joint orchestration of VNFs and microservices).
type Kind string

const (
	KindVNF          Kind = "vnf"
	KindMicroservice Kind = "microservice"
)

// VNFD describes one VNF or microservice.
type VNFD struct {
	ID          string `json:"id"`
	Version     string `json:"version,omitempty"`
	Provider    string `json:"provider,omitempty"`
	ProductName string `json:"product-name,omitempty"`
	Description string `json:"description,omitempty"`
	// Kind is a stitch extension; SOL006 documents without it load as vnf.
	Kind Kind `json:"kind,omitempty"`

	VDUs                []VDU                  `json:"vdu"`
	VirtualComputeDescs []VirtualComputeDesc   `json:"virtual-compute-desc,omitempty"`
	SwImageDescs        []SwImageDesc          `json:"sw-image-desc,omitempty"`
	IntVirtualLinkDescs []IntVirtualLinkDesc   `json:"int-virtual-link-desc,omitempty"`
	ExtCpds             []ExtCpd               `json:"ext-cpd,omitempty"`
	MgmtCp              string                 `json:"mgmt-cp,omitempty"`
	DFs                 []VNFDeploymentFlavour `json:"df"`
	MonitoringParams    []MonitoringParameter  `json:"monitoring-parameter,omitempty"`
}

// VDU is one virtualisation deployment unit: a process on the local VIM, a
// server (image and flavour) on a cloud VIM.
type VDU struct {
	ID                 string   `json:"id"`
	Name               string   `json:"name,omitempty"`
	Description        string   `json:"description,omitempty"`
	VirtualComputeDesc string   `json:"virtual-compute-desc,omitempty"`
	SwImageDesc        string   `json:"sw-image-desc,omitempty"`
	IntCpds            []IntCpd `json:"int-cpd,omitempty"`
	// Program is a stitch extension: what the local VIM runs.
	Program *Program `json:"program,omitempty"`
	// Slots is a stitch extension: session slots per instance (FUSION).
	Slots       int          `json:"slots,omitempty"`
	HealthCheck *HealthCheck `json:"health-check,omitempty"`
}

// Program is what the local VIM executes for a VDU instance. Args and Env
// values may refer to ${STITCH_*} variables the VNFM provides.
type Program struct {
	Path string            `json:"path"`
	Args []string          `json:"args,omitempty"`
	Env  map[string]string `json:"env,omitempty"`
}

// HealthCheck is a stitch extension: how the VNFM decides an instance is up.
type HealthCheck struct {
	Type             string   `json:"type"`          // http | tcp | process
	Cpd              string   `json:"cpd,omitempty"` // int-cpd whose address is probed
	Port             int      `json:"port,omitempty"`
	Path             string   `json:"path,omitempty"`
	Interval         Duration `json:"interval,omitempty"`
	Timeout          Duration `json:"timeout,omitempty"`
	FailureThreshold int      `json:"failure-threshold,omitempty"`
}

type VirtualComputeDesc struct {
	ID            string        `json:"id"`
	VirtualCPU    VirtualCPU    `json:"virtual-cpu"`
	VirtualMemory VirtualMemory `json:"virtual-memory"`
}

type VirtualCPU struct {
	NumVirtualCPU int `json:"num-virtual-cpu"`
}

// VirtualMemory.Size is in GB, as in SOL006.
type VirtualMemory struct {
	Size float64 `json:"size"`
}

type SwImageDesc struct {
	ID              string `json:"id"`
	Name            string `json:"name,omitempty"`
	Image           string `json:"image,omitempty"`
	Version         string `json:"version,omitempty"`
	ContainerFormat string `json:"container-format,omitempty"`
	DiskFormat      string `json:"disk-format,omitempty"`
}

type IntVirtualLinkDesc struct {
	ID string `json:"id"`
	// CIDR is a stitch extension; empty means the VNFM chooses.
	CIDR string `json:"cidr,omitempty"`
}

// IntCpd is a VDU's connection point.
type IntCpd struct {
	ID                 string `json:"id"`
	IntVirtualLinkDesc string `json:"int-virtual-link-desc,omitempty"`
	Description        string `json:"description,omitempty"`
}

// ExtCpd exposes a VDU connection point outside the VNF.
type ExtCpd struct {
	ID     string        `json:"id"`
	IntCpd *ExtCpdIntCpd `json:"int-cpd,omitempty"`
	// Ports is a stitch extension: what the CP accepts (default deny).
	Ports []PortRule `json:"ports,omitempty"`
}

type ExtCpdIntCpd struct {
	VduID string `json:"vdu-id"`
	Cpd   string `json:"cpd"`
}

// PortRule is a stitch extension: a port a connection point serves.
type PortRule struct {
	Port     int    `json:"port"`
	Protocol string `json:"protocol,omitempty"` // tcp (default) | udp
}

type VNFDeploymentFlavour struct {
	ID                  string               `json:"id"`
	VduProfiles         []VduProfile         `json:"vdu-profile,omitempty"`
	InstantiationLevels []InstantiationLevel `json:"instantiation-level,omitempty"`
	ScalingAspects      []ScalingAspect      `json:"scaling-aspect,omitempty"`
}

type VduProfile struct {
	ID                   string `json:"id"`
	MinNumberOfInstances int    `json:"min-number-of-instances,omitempty"`
	MaxNumberOfInstances int    `json:"max-number-of-instances,omitempty"`
	// Slots is a stitch extension overriding the VDU's slots in this flavour.
	Slots int `json:"slots,omitempty"`
}

type InstantiationLevel struct {
	ID        string     `json:"id"`
	VduLevels []VduLevel `json:"vdu-level,omitempty"`
}

type VduLevel struct {
	VduID             string `json:"vdu-id"`
	NumberOfInstances int    `json:"number-of-instances"`
}

type ScalingAspect struct {
	ID                 string              `json:"id"`
	Name               string              `json:"name,omitempty"`
	MaxScaleLevel      int                 `json:"max-scale-level,omitempty"`
	AspectDeltaDetails *AspectDeltaDetails `json:"aspect-delta-details,omitempty"`
}

type AspectDeltaDetails struct {
	Deltas []ScalingDelta `json:"deltas,omitempty"`
}

type ScalingDelta struct {
	ID        string     `json:"id"`
	VduDeltas []VduDelta `json:"vdu-delta,omitempty"`
}

type VduDelta struct {
	ID                string `json:"id"`
	NumberOfInstances int    `json:"number-of-instances"`
}

type MonitoringParameter struct {
	ID                string   `json:"id"`
	Name              string   `json:"name,omitempty"`
	PerformanceMetric string   `json:"performance-metric"`
	CollectionPeriod  Duration `json:"collection-period,omitempty"`
}

// NSD describes a network service: constituents, links, chains and access
// points.
type NSD struct {
	ID               string                `json:"id"`
	Name             string                `json:"name,omitempty"`
	Version          string                `json:"version,omitempty"`
	Designer         string                `json:"designer,omitempty"`
	Description      string                `json:"description,omitempty"`
	VnfdIDs          []string              `json:"vnfd-id"`
	VirtualLinkDescs []NsVirtualLinkDesc   `json:"virtual-link-desc,omitempty"`
	Sapds            []Sapd                `json:"sapd,omitempty"`
	Vnffgds          []Vnffgd              `json:"vnffgd,omitempty"`
	DFs              []NSDeploymentFlavour `json:"df"`
}

type NsVirtualLinkDesc struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	MgmtNetwork bool   `json:"mgmt-network,omitempty"`
	// CIDR is a stitch extension: the subnet of this link.
	CIDR string `json:"cidr,omitempty"`
}

// Sapd is a service access point. Address, port and protocol are stitch's
// anycast service address extensions.
type Sapd struct {
	ID              string `json:"id"`
	VirtualLinkDesc string `json:"virtual-link-desc,omitempty"`
	Address         string `json:"address,omitempty"`
	Port            int    `json:"port,omitempty"`
	Protocol        string `json:"protocol,omitempty"`
	// Entry names the constituent CP that serves the SAP.
	Entry *ConstituentCpd `json:"entry,omitempty"`
}

type ConstituentCpd struct {
	ConstituentBaseElementID string `json:"constituent-base-element-id"` // vnf-profile id
	ConstituentCpdID         string `json:"constituent-cpd-id"`          // ext-cpd id
}

// Vnffgd is a forwarding graph; each NFP is an ordered chain with a
// classifier.
type Vnffgd struct {
	ID   string `json:"id"`
	Nfpd []Nfpd `json:"nfpd"`
}

type Nfpd struct {
	ID              string          `json:"id"`
	MatchAttributes MatchAttributes `json:"match-attributes,omitempty"`
	Positions       []NfpPosition   `json:"position"`
}

// MatchAttributes is the traffic classifier of a chain.
type MatchAttributes struct {
	IPProto              string `json:"ip-proto,omitempty"`               // tcp | udp | icmp
	SourceIPAddress      string `json:"source-ip-address,omitempty"`      // CIDR
	DestinationIPAddress string `json:"destination-ip-address,omitempty"` // CIDR
	DestinationPort      int    `json:"destination-port,omitempty"`
}

type NfpPosition struct {
	Order        int    `json:"order"`
	VnfProfileID string `json:"vnf-profile-id"`
	IngressCpdID string `json:"ingress-cpd-id"`
	EgressCpdID  string `json:"egress-cpd-id,omitempty"`
}

type NSDeploymentFlavour struct {
	ID                           string               `json:"id"`
	VnfProfiles                  []VnfProfile         `json:"vnf-profile"`
	VirtualLinkProfiles          []VirtualLinkProfile `json:"virtual-link-profile,omitempty"`
	AffinityOrAntiAffinityGroups []AffinityGroup      `json:"affinity-or-anti-affinity-group,omitempty"`
	ScalingPolicies              []ScalingPolicy      `json:"scaling-policy,omitempty"`
}

type VnfProfile struct {
	ID                             string                    `json:"id"`
	VnfdID                         string                    `json:"vnfd-id"`
	FlavourID                      string                    `json:"flavour-id,omitempty"`
	InstantiationLevel             string                    `json:"instantiation-level,omitempty"`
	MinNumberOfInstances           int                       `json:"min-number-of-instances,omitempty"`
	MaxNumberOfInstances           int                       `json:"max-number-of-instances,omitempty"`
	VirtualLinkConnectivity        []VirtualLinkConnectivity `json:"virtual-link-connectivity,omitempty"`
	AffinityOrAntiAffinityGroupIDs []AffinityGroupRef        `json:"affinity-or-anti-affinity-group,omitempty"`
	// DependsOn (stitch): vnf-profile ids deployed and healthy first.
	DependsOn []string `json:"depends-on,omitempty"`
	// Sites (stitch): execution zones this constituent may run in; empty
	// means any.
	Sites []string `json:"sites,omitempty"`
}

type VirtualLinkConnectivity struct {
	VirtualLinkProfileID string           `json:"virtual-link-profile-id"`
	ConstituentCpdIDs    []ConstituentCpd `json:"constituent-cpd-id,omitempty"`
}

type VirtualLinkProfile struct {
	ID                string `json:"id"`
	VirtualLinkDescID string `json:"virtual-link-desc-id"`
	FlavourID         string `json:"flavour-id,omitempty"`
}

type AffinityGroup struct {
	ID    string `json:"id"`
	Type  string `json:"type"`  // affinity | anti-affinity
	Scope string `json:"scope"` // nfvi-node | zone (site)
}

type AffinityGroupRef struct {
	ID string `json:"id"`
}

// ScalingPolicy (stitch) scales one constituent's aspect on a metric, in the
// style of MiCADO and OSM; a "slots" policy keeps the free-slot ratio within
// a band.
type ScalingPolicy struct {
	ID           string   `json:"id"`
	VnfProfileID string   `json:"vnf-profile-id"`
	AspectID     string   `json:"aspect-id"`
	Metric       string   `json:"metric"`               // a monitoring-parameter id, or "free-slots-ratio"
	Comparison   string   `json:"comparison,omitempty"` // gt | lt (threshold policies)
	Threshold    float64  `json:"threshold,omitempty"`
	Band         *Band    `json:"band,omitempty"` // slot policies: keep within [low, high]
	Duration     Duration `json:"duration,omitempty"`
	Cooldown     Duration `json:"cooldown,omitempty"`
	MinInstances int      `json:"min-instances,omitempty"`
	MaxInstances int      `json:"max-instances,omitempty"`
}

type Band struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

package control

import "time"

// Protocols of a Service.
const (
	TCP = "tcp"
	UDP = "udp"
)

// Service is one service access point and where its sessions may go.
type Service struct {
	Name     string `json:"name"`
	VIP      string `json:"vip"` // IPv4 or IPv6 literal
	Port     uint16 `json:"port"`
	Protocol string `json:"protocol"` // "tcp" or "udp"
	// Instances take the service's new sessions by their free slots.
	Instances []Instance `json:"instances"`
	// Overflow takes new sessions when no instance has a free slot (a
	// remote domain's ingress); without it they are refused.
	Overflow *Instance `json:"overflow,omitempty"`
	// ICMPUnreachable answers refused UDP datagrams with ICMP port
	// unreachable instead of dropping them.
	ICMPUnreachable bool `json:"icmpUnreachable,omitempty"`
}

// Instance is a tunnel endpoint that decapsulates the service's packets.
type Instance struct {
	ID      string `json:"id"`
	Address string `json:"address"` // IP literal of the tunnel endpoint
	// MAC is the Ethernet next hop towards Address on the router's
	// interface: the instance itself, or the gateway towards it.
	MAC string `json:"mac"`
	// Draining stops new sessions; established ones stay.
	Draining bool `json:"draining,omitempty"`
}

// Report is an instance's session-slot count.
type Report struct {
	Service    string    `json:"service"`
	Instance   string    `json:"instance"`
	Max        int       `json:"max"`
	Available  int       `json:"available"`
	MeasuredAt time.Time `json:"measuredAt"`
}

// ReportResult answers POST /v1/reports.
type ReportResult struct {
	Accepted int         `json:"accepted"`
	Rejected []Rejection `json:"rejected"`
}

// Rejection is a report the router did not take, and why.
type Rejection struct {
	Service  string `json:"service"`
	Instance string `json:"instance"`
	Error    string `json:"error"`
}

// ServiceView is a service as the router sees it.
type ServiceView struct {
	Name      string         `json:"name"`
	VIP       string         `json:"vip"`
	Port      uint16         `json:"port"`
	Protocol  string         `json:"protocol"`
	Counters  Counters       `json:"counters"` // the VIP's; Refused counts sessions no instance took
	Instances []InstanceView `json:"instances"`
	Overflow  *InstanceView  `json:"overflow,omitempty"`
}

// InstanceView is an instance as the router sees it: its share of the
// service's table and the slot estimate that explains it.
type InstanceView struct {
	ID       string   `json:"id"`
	Draining bool     `json:"draining"`
	Entries  int      `json:"entries"`  // Maglev table slots pointing at it
	Share    float64  `json:"sharePct"` // Entries as a percentage of the table
	Estimate Estimate `json:"estimate"`
	Counters Counters `json:"counters"`
}

// Estimate mirrors servicerouter/slots.Estimate: every term of the
// headroom rule, so an operator can see why an instance gets its weight.
type Estimate struct {
	Live           bool    `json:"live"`
	Free           int     `json:"free"` // in the last report
	Mean           float64 `json:"mean"` // moving average of slots in use
	Sigma          float64 `json:"sigma"`
	AgeSeconds     float64 `json:"ageSeconds"`     // of the last report
	Rate           float64 `json:"rate"`           // new sessions per second in steady state
	SessionSeconds float64 `json:"sessionSeconds"` // mean session length the rule uses (measured when short)
	SendRate       float64 `json:"sendRate"`       // new sessions per second the router sends it
	Sent           int     `json:"sent"`           // sessions sent since the last report
	Arrivals       float64 `json:"arrivals"`
	Departures     float64 `json:"departures"`
	Headroom       float64 `json:"headroom"`
	Weight         uint32  `json:"weight"` // free slots the router will spend
}

// Counters are data-plane counters since the router started.
type Counters struct {
	Packets     uint64 `json:"packets"`
	Bytes       uint64 `json:"bytes"`
	NewSessions uint64 `json:"newSessions"`
	Refused     uint64 `json:"refused"`
}

// servicesBody is the body of PUT and GET /v1/services.
type servicesBody struct {
	Services []Service `json:"services"`
}

type viewsBody struct {
	Services []ServiceView `json:"services"`
}

type reportsBody struct {
	Reports []Report `json:"reports"`
}

type errorBody struct {
	Error string `json:"error"`
}

// Package telemetry is the service SDK's side of stitch's telemetry: where a
// service's instance publishes its state (paths), and a Publisher that
// serves it over gNMI (package telemetry/gnmi) with the process's CPU,
// memory and interface counters (telemetry/sysmetrics). The VNFM
// subscribes to every instance it runs at Port on the instance's data
// address.
//
// An instance's leaves live under
//
//	/services/service[name=<vnf-profile>]/instances/instance[id=<instance>]/state/
//
// A VNFD monitoring parameter's performance-metric names one of them with
// dots for slashes: "slots.available" is state/slots/available,
// "requests" is state/requests. Every instance also has state/oper-status
// ("UP" while it serves, "DOWN" while it shuts down).
package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/stitchnfv/stitch/telemetry"
	"github.com/stitchnfv/stitch/telemetry/gnmi"
	"github.com/stitchnfv/stitch/telemetry/sysmetrics"
)

// Port is where an instance serves gNMI on its data address.
const Port = 9339

// InstancePath is the root of an instance's leaves.
func InstancePath(service, instance string) string {
	return telemetry.Path{
		{Name: "services"}, {Name: "service", Keys: map[string]string{"name": service}},
		{Name: "instances"}, {Name: "instance", Keys: map[string]string{"id": instance}},
	}.String()
}

// MetricPath is the leaf of a monitoring parameter's performance-metric.
func MetricPath(service, instance, metric string) string {
	return InstancePath(service, instance) + "/state/" + strings.ReplaceAll(metric, ".", "/")
}

// Standard leaves under state/.
const (
	OperStatus = "oper-status"
	UP, DOWN   = "UP", "DOWN"
)

// Publisher is an instance's telemetry: a tree, served over gNMI.
type Publisher struct {
	Tree     *telemetry.Tree
	target   *gnmi.Target
	service  string
	instance string
}

// NewPublisher returns the publisher of one instance of a service.
func NewPublisher(service, instance string, log *slog.Logger) *Publisher {
	tree := telemetry.NewTree()
	return &Publisher{Tree: tree, service: service, instance: instance,
		target: gnmi.NewTarget(tree, gnmi.Options{Name: instance, Logger: log})}
}

// Set publishes a metric's value (see MetricPath).
func (p *Publisher) Set(metric string, v any) error {
	return p.Tree.Set(MetricPath(p.service, p.instance, metric), v)
}

// Serve serves gNMI on addr (host:port) and publishes the process's system
// metrics every interval until ctx ends. Its oper-status is UP until then.
func (p *Publisher) Serve(ctx context.Context, addr string, interval time.Duration) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("telemetry: listen: %w", err)
	}
	if err := p.Set(OperStatus, UP); err != nil {
		ln.Close()
		return err
	}
	go func() { _ = sysmetrics.Run(ctx, p.Tree, sysmetrics.Options{Interval: interval}) }()
	return p.target.Serve(ctx, ln)
}

// Addr is an instance's gNMI address on its data address host.
func Addr(host string) string { return net.JoinHostPort(host, strconv.Itoa(Port)) }

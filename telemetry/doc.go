// Package telemetry is the in-process data tree that a stitch service
// publishes its operational state into: session slots, interface counters,
// CPU and memory. Leaves live at OpenConfig-style keyed paths such as
//
//	/services/service[name=web]/instances/instance[id=i1]/state/available-slots
//
// and hold typed scalar values with the time they last changed. The tree
// itself knows nothing about gRPC; telemetry/gnmi serves it to gNMI clients
// and telemetry/sysmetrics fills in the standard process metrics.
//
// Writers never block on readers: a [Watch] coalesces pending changes to the
// latest value per path, so a slow consumer costs memory bounded by the number
// of leaves it watches, never writer latency.
package telemetry

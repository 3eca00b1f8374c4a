package samplekit

import "strings"

// TraceHeader carries the path a request took: every hop appends
// "<role>:<instance>" before forwarding and copies the downstream answer's
// value back, so the client sees the whole path.
const TraceHeader = "X-Stitch-Trace"

// Hop names one hop in a trace.
func Hop(role, instanceID string) string { return role + ":" + instanceID }

// AppendHop adds hop to a trace value.
func AppendHop(trace, hop string) string {
	if strings.TrimSpace(trace) == "" {
		return hop
	}
	return trace + "," + hop
}

// SplitTrace turns a trace value into its hops.
func SplitTrace(trace string) []string {
	var hops []string
	for h := range strings.SplitSeq(trace, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hops = append(hops, h)
		}
	}
	return hops
}

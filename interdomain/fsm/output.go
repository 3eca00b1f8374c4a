package fsm

import (
	"fmt"

	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

// State is a session's state.
type State int

// Session states. Connecting and retrying are the transport's, so a session
// without a stream is Idle.
const (
	Idle State = iota
	OpenSent
	OpenConfirm
	Established
)

func (s State) String() string {
	switch s {
	case Idle:
		return "Idle"
	case OpenSent:
		return "OpenSent"
	case OpenConfirm:
		return "OpenConfirm"
	case Established:
		return "Established"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Outbound is a message to write to a peer's stream.
type Outbound struct {
	Peer string
	Msg  wire.Message
}

// EventKind says what happened to a session or route.
type EventKind int

// Events.
const (
	// SessionUp: the session is established.
	SessionUp EventKind = iota
	// SessionDown: the session closed; Err says why.
	SessionDown
	// RouteRefused: a route from the peer was dropped (loop, bad or
	// unknown origin signature); Err says which.
	RouteRefused
	// PeerRestarting: the peer went away with graceful restart; its routes
	// are kept as stale.
	PeerRestarting
	// StaleFlushed: stale routes of a restarting peer were removed.
	StaleFlushed
	// RouteSuppressed and RouteReused: flap damping held back or released
	// a route.
	RouteSuppressed
	RouteReused
	// RetractionRefused: a retraction from the peer was dropped (its
	// origin's signature does not verify or its key is unknown); Err says
	// which. The session stays up.
	RetractionRefused
)

func (k EventKind) String() string {
	names := [...]string{"SessionUp", "SessionDown", "RouteRefused", "PeerRestarting", "StaleFlushed", "RouteSuppressed", "RouteReused", "RetractionRefused"}
	if int(k) < len(names) {
		return names[k]
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event reports something an operator may want to see.
type Event struct {
	Peer    string
	Kind    EventKind
	Service string
	Err     error
}

// Output is everything the Speaker wants done since the last Ready.
type Output struct {
	Messages []Outbound
	// Close lists peers whose stream must be closed once their messages
	// above are written.
	Close []string
	// Changes are Loc-RIB changes, for the service router and the CLI.
	Changes []rib.Change
	Events  []Event
}

// Empty reports whether there is nothing to do.
func (o Output) Empty() bool {
	return len(o.Messages)+len(o.Close)+len(o.Changes)+len(o.Events) == 0
}

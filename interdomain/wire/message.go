package wire

import (
	"fmt"
	"time"
)

// ProtocolID is the libp2p protocol the messages are exchanged on. The major
// version changes only with an incompatible encoding; fields are added
// compatibly.
const ProtocolID = "/stitch/svcroute/1.0.0"

// Version is the protocol version carried in OPEN.
const Version = 1

// Type identifies a message in the envelope.
type Type uint8

// Message types. The numbers are part of the wire format.
const (
	TypeOpen         Type = 1
	TypeUpdate       Type = 2
	TypeKeepalive    Type = 3
	TypeNotification Type = 4
	TypeRouteRefresh Type = 5
	TypeEndOfRIB     Type = 6
)

func (t Type) String() string {
	switch t {
	case TypeOpen:
		return "OPEN"
	case TypeUpdate:
		return "UPDATE"
	case TypeKeepalive:
		return "KEEPALIVE"
	case TypeNotification:
		return "NOTIFICATION"
	case TypeRouteRefresh:
		return "ROUTE-REFRESH"
	case TypeEndOfRIB:
		return "END-OF-RIB"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Message is one of Open, Update, Keepalive, Notification, RouteRefresh and
// EndOfRIB. The interface is sealed so that a type switch over it is
// exhaustive.
type Message interface {
	Type() Type
	sealed()
}

// Open starts a session. Each side sends one; the session is established
// when both have been accepted.
type Open struct {
	Version  uint32
	DomainID string
	// HoldTime is how long the sender waits without hearing from us before
	// declaring the session dead. The session uses the smaller of both.
	HoldTime     time.Duration
	Capabilities Capabilities
}

// Capabilities are the optional features the sender supports.
type Capabilities struct {
	RouteRefresh bool
	// GracefulRestart asks the receiver to keep the sender's routes, marked
	// stale, for RestartTime if the session drops without a NOTIFICATION.
	GracefulRestart bool
	RestartTime     time.Duration
	// BatchSignatures says the sender verifies batch-signed routes (see
	// SignBatch); only such a peer is sent them.
	BatchSignatures bool
}

// Update carries announcements and withdrawals together, so that a change of
// best path is one message and never an intermediate black hole.
type Update struct {
	Announce []Route
	// Withdraw holds service names whose route from the sender is gone.
	Withdraw []string
	// Retract holds origin-signed retractions: each removes every path to
	// its origin's service up to its epoch, at every domain it reaches,
	// whoever announced the path. A receiver applies them before the
	// withdrawals and announcements of the same UPDATE.
	Retract []Retraction
}

// Keepalive proves liveness when there is nothing else to send.
type Keepalive struct{}

// Notification reports an error; the sender closes the session after it.
type Notification struct {
	Code    NotifyCode
	Subcode uint8
	Text    string
}

// RouteRefresh asks the receiver to resend its whole Adj-RIB-Out for us.
type RouteRefresh struct{}

// EndOfRIB marks the end of an initial table transfer or of a refresh: a
// receiver that kept stale routes from a graceful restart flushes the ones
// not refreshed by then.
type EndOfRIB struct{}

func (Open) Type() Type         { return TypeOpen }
func (Update) Type() Type       { return TypeUpdate }
func (Keepalive) Type() Type    { return TypeKeepalive }
func (Notification) Type() Type { return TypeNotification }
func (RouteRefresh) Type() Type { return TypeRouteRefresh }
func (EndOfRIB) Type() Type     { return TypeEndOfRIB }

func (Open) sealed()         {}
func (Update) sealed()       {}
func (Keepalive) sealed()    {}
func (Notification) sealed() {}
func (RouteRefresh) sealed() {}
func (EndOfRIB) sealed()     {}

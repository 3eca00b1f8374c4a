package wire

import "fmt"

// NotifyCode is the error class of a NOTIFICATION. The values follow BGP's
// (RFC 4271 §4.5) so that operators recognise them.
type NotifyCode uint8

// Notification codes.
const (
	CodeMessage          NotifyCode = 1 // malformed frame or envelope
	CodeOpen             NotifyCode = 2 // OPEN refused; subcode says why
	CodeUpdate           NotifyCode = 3 // malformed UPDATE
	CodeHoldTimerExpired NotifyCode = 4
	CodeFSM              NotifyCode = 5 // message unexpected in the session state
	CodeCease            NotifyCode = 6 // orderly close; subcode says why
)

// Subcodes of CodeOpen.
const (
	OpenUnsupportedVersion   uint8 = 1
	OpenBadPeerID            uint8 = 2
	OpenUnacceptableHoldTime uint8 = 6
)

// Subcodes of CodeCease (RFC 4486 numbering).
const (
	CeaseMaxRoutes        uint8 = 1
	CeaseAdminShutdown    uint8 = 2
	CeasePeerDeconfigured uint8 = 3
)

func (c NotifyCode) String() string {
	switch c {
	case CodeMessage:
		return "message error"
	case CodeOpen:
		return "open error"
	case CodeUpdate:
		return "update error"
	case CodeHoldTimerExpired:
		return "hold timer expired"
	case CodeFSM:
		return "fsm error"
	case CodeCease:
		return "cease"
	}
	return fmt.Sprintf("code %d", uint8(c))
}

// Error lets a received NOTIFICATION be returned and matched as an error.
func (n Notification) Error() string {
	if n.Text == "" {
		return fmt.Sprintf("notification: %v (subcode %d)", n.Code, n.Subcode)
	}
	return fmt.Sprintf("notification: %v (subcode %d): %s", n.Code, n.Subcode, n.Text)
}

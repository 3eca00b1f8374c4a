package wire

import "errors"

// Decoding errors. They are wrapped with the field path, e.g.
// "update.announce[2].address: bad address"; match them with errors.Is.
var (
	ErrTruncated    = errors.New("truncated")
	ErrMalformed    = errors.New("malformed")
	ErrOversize     = errors.New("message too large")
	ErrUnknownType  = errors.New("unknown message type")
	ErrBadAddress   = errors.New("bad address")
	ErrEmptyService = errors.New("empty service name")
	ErrInvalid      = errors.New("invalid field")
	ErrBadSignature = errors.New("origin signature does not verify")
)

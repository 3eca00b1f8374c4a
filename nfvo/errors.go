package nfvo

import (
	"errors"
	"fmt"
)

// Error classes of the orchestrator; the REST API maps them to HTTP status
// codes (404, 409, 409, 422).
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict: the request collides with existing state (a duplicate,
	// a descriptor in use, an operation already running).
	ErrConflict = errors.New("conflict")
	// ErrState: the instance or operation is in the wrong state.
	ErrState = errors.New("wrong state")
	// ErrInvalid: the request or descriptor is malformed or inconsistent.
	ErrInvalid = errors.New("invalid")
)

// BusyError says which operation holds an NS instance.
type BusyError struct {
	NsID string
	OpID string
	Type OpType
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("NS instance %s is busy with %s operation %s", e.NsID, e.Type, e.OpID)
}

func (e *BusyError) Is(target error) bool { return target == ErrConflict }

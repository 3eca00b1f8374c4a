package lab

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors for callers; match them with errors.Is.
var (
	// ErrInvalid: the topology file is malformed or inconsistent.
	ErrInvalid = errors.New("invalid topology")
	// ErrAlreadyDeployed: a lab of that name is already up (or half up)
	// under the runner's state directory.
	ErrAlreadyDeployed = errors.New("lab already deployed")
	// ErrNotDeployed: no lab of that name under the state directory.
	ErrNotDeployed = errors.New("lab not deployed")
	// ErrUnsupported: the topology asks for something this runner or this
	// kernel cannot realise (a kind other than linux/bridge, netem).
	ErrUnsupported = errors.New("unsupported")
)

// Problem is one thing wrong with a topology, at a path such as
// "topology.links[2].endpoints[1]".
type Problem struct {
	Path string
	Msg  string
}

func (p Problem) String() string { return p.Path + ": " + p.Msg }

// ValidationError reports every problem found in a topology, not just the
// first, so an operator can fix a file in one go. It matches ErrInvalid (or
// ErrUnsupported, see Sentinel) with errors.Is.
type ValidationError struct {
	Problems []Problem
	// Sentinel is ErrInvalid or ErrUnsupported.
	Sentinel error
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(e.Sentinel.Error())
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

func (e *ValidationError) Is(target error) bool { return target == e.Sentinel }

// problems collects Problems while validating.
type problems struct{ list []Problem }

func (p *problems) add(path, format string, args ...any) {
	p.list = append(p.list, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) err(sentinel error) error {
	if len(p.list) == 0 {
		return nil
	}
	return &ValidationError{Problems: p.list, Sentinel: sentinel}
}

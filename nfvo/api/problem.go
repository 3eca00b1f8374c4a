package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/stitchnfv/stitch/descriptors"
	"github.com/stitchnfv/stitch/nfvo"
)

// Problem types (RFC 7807 "type") the API answers with. They are tag URIs
// (RFC 4151): identifiers, not pages to fetch. Several classes share a
// status code (409 is a duplicate, a busy instance or a wrong state), so
// clients tell them apart by type; Client maps them back to nfvo's errors.
const (
	ProblemTypeBadRequest = "tag:stitchnfv.github.io,2025:problems/bad-request" // 400, 413: the body did not decode
	ProblemTypeNotFound   = "tag:stitchnfv.github.io,2025:problems/not-found"   // 404
	ProblemTypeConflict   = "tag:stitchnfv.github.io,2025:problems/conflict"    // 409: duplicate, in use
	ProblemTypeBusy       = "tag:stitchnfv.github.io,2025:problems/busy"        // 409: another operation holds the NS instance
	ProblemTypeState      = "tag:stitchnfv.github.io,2025:problems/wrong-state" // 409
	ProblemTypeInvalid    = "tag:stitchnfv.github.io,2025:problems/invalid"     // 422; errors lists field problems
	ProblemTypeInternal   = "tag:stitchnfv.github.io,2025:problems/internal"    // 500
)

const problemContentType = "application/problem+json"

// requestError is a request the API rejects before calling the Service:
// an undecodable or oversized body.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// problemFor maps an error to problem details. Only the error classes of
// package nfvo (and request errors) reach the client with their message;
// anything else is an internal error whose message may leak internals, so
// its detail is generic and the caller logs the real error.
func problemFor(err error) nfvo.Problem {
	p := nfvo.Problem{Detail: err.Error()}
	var (
		reqErr *requestError
		tooBig *http.MaxBytesError
	)
	ve, isValidation := errors.AsType[*descriptors.ValidationError](err)
	switch {
	case errors.As(err, &reqErr):
		p.Status, p.Type = reqErr.status, ProblemTypeBadRequest
	case errors.As(err, &tooBig):
		p.Status, p.Type = http.StatusRequestEntityTooLarge, ProblemTypeBadRequest
		p.Detail = fmt.Sprintf("request body exceeds %d bytes", tooBig.Limit)
	case errors.Is(err, nfvo.ErrNotFound):
		p.Status, p.Type = http.StatusNotFound, ProblemTypeNotFound
	case errors.Is(err, nfvo.ErrConflict):
		p.Status, p.Type = http.StatusConflict, ProblemTypeConflict
		if _, busy := errors.AsType[*nfvo.BusyError](err); busy {
			p.Type = ProblemTypeBusy
		}
	case errors.Is(err, nfvo.ErrState):
		p.Status, p.Type = http.StatusConflict, ProblemTypeState
	case errors.Is(err, nfvo.ErrInvalid), errors.Is(err, descriptors.ErrInvalid), isValidation:
		p.Status, p.Type = http.StatusUnprocessableEntity, ProblemTypeInvalid
	default:
		p.Status, p.Type, p.Detail = http.StatusInternalServerError, ProblemTypeInternal, "internal error"
	}
	p.Title = http.StatusText(p.Status)
	if isValidation && len(ve.Problems) > 0 {
		for _, vp := range ve.Problems {
			p.Errors = append(p.Errors, nfvo.FieldProblem{Path: vp.Path, Reason: vp.Reason})
		}
		// The validation error's text lists every problem, one per line;
		// they are in errors now, so the detail keeps the context the
		// orchestrator wrapped around it and a count.
		summary := fmt.Sprintf("descriptor has %d problems, listed in errors", len(ve.Problems))
		if len(ve.Problems) == 1 {
			summary = "descriptor has 1 problem, listed in errors"
		}
		p.Detail = strings.Replace(p.Detail, ve.Error(), summary, 1)
	}
	// Details are one line: they end up in log lines and terminal output.
	p.Detail = strings.ReplaceAll(p.Detail, "\n", "; ")
	return p
}

// writeError answers with the problem for err, logging internal errors.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	p.Instance = r.URL.Path
	if p.Status >= http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p nfvo.Problem) {
	body, err := json.Marshal(p)
	if err != nil { // unreachable: a Problem holds only strings and ints
		body = []byte(`{"status":500,"detail":"internal error"}`)
	}
	w.Header().Set("Content-Type", problemContentType)
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(body, '\n')) // the client went away; nothing left to tell it
}

package samplekit

import (
	"encoding/json"
	"net/http"
)

// Problem is an RFC 9457 problem detail; Hop (an extension member) says
// which instance answered, since the body may travel back through several.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Hop    string `json:"hop,omitempty"`
}

// WriteProblem answers status with a problem+json body.
func WriteProblem(w http.ResponseWriter, status int, hop, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{
		Type:   "about:blank",
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Hop:    hop,
	})
}

// WriteJSON answers status with v as JSON. An encoding error can only be
// a write error by then (the client went away), so it is dropped.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

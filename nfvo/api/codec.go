package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Body size limits. Lifecycle requests are a few hundred bytes; descriptors
// can embed scripts and cloud-init, hence the larger limit.
const (
	maxRequestBody    = 1 << 20
	maxDescriptorBody = 10 << 20
)

// readBody reads the whole request body, up to limit bytes. An empty body
// (or only white space) is returned as nil.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	return body, nil
}

// bodyRule says whether a lifecycle request may omit its body: requests
// whose fields are all optional may, and then mean "the defaults".
type bodyRule bool

const (
	bodyRequired bodyRule = false
	bodyOptional bodyRule = true
)

// decodeJSON decodes a lifecycle request strictly: one JSON object, no
// unknown fields (a misspelt field must not be silently ignored on an
// operation that changes a live network service), at most maxRequestBody
// bytes. On error nothing has been done yet, so a bad request changes
// nothing.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, rule bodyRule) error {
	body, err := readBody(w, r, maxRequestBody)
	switch {
	case err != nil:
		return err
	case body == nil && rule == bodyOptional:
		return nil
	case body == nil:
		return badRequest("request body is empty; expected a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("malformed JSON body: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("malformed JSON body: unexpected data after the JSON value")
	}
	return nil
}

// wantsYAML reports whether the Accept header names a YAML media type
// before any JSON one. Order stands in for q-values (q=0 excludes), which
// is what operators' tools send in practice.
func wantsYAML(r *http.Request) bool {
	for part := range strings.SplitSeq(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if q, err := strconv.ParseFloat(params["q"], 64); err == nil && q == 0 {
			continue // explicitly not acceptable
		}
		switch mt {
		case "application/json":
			return false
		case "application/yaml", "application/x-yaml", "text/yaml":
			return true
		}
	}
	return false
}

// writeObject encodes v as JSON, or as YAML when the client asks for it.
func writeObject(w http.ResponseWriter, r *http.Request, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	return writeJSONBytes(w, r, status, body)
}

// writeJSONBytes writes an already encoded JSON document, converted to YAML
// when the client asks for it.
func writeJSONBytes(w http.ResponseWriter, r *http.Request, status int, body []byte) error {
	contentType := "application/json"
	if wantsYAML(r) {
		y, err := yaml.JSONToYAML(body)
		if err != nil {
			return fmt.Errorf("encode response as YAML: %w", err)
		}
		body, contentType = y, "application/yaml"
	} else {
		body = append(body, '\n')
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client went away; nothing left to tell it
	return nil
}

// nonNil makes empty collections encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

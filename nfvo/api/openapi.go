package api

import (
	_ "embed"
	"fmt"
	"net/http"

	"sigs.k8s.io/yaml"
)

// openAPIYAML is the hand-written OpenAPI 3.0 description of this API.
// A test checks it against the route table and the nfvo types, so a route
// or a field added without documenting it fails the build's tests.
//
//go:embed openapi.yaml
var openAPIYAML string // a string: embedded data that cannot be mutated

// OpenAPI returns the API's OpenAPI 3.0 document (YAML).
func OpenAPI() []byte { return []byte(openAPIYAML) }

func openAPIToJSON() ([]byte, error) {
	js, err := yaml.YAMLToJSON([]byte(openAPIYAML))
	if err != nil {
		return nil, fmt.Errorf("convert openapi.yaml to JSON: %w", err)
	}
	return js, nil
}

func (s *server) serveOpenAPIYAML(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/yaml")
	_, _ = w.Write([]byte(openAPIYAML)) // the client went away; nothing left to tell it
	return nil
}

func (s *server) serveOpenAPIJSON(w http.ResponseWriter, r *http.Request) error {
	if s.openAPIJSONErr != nil {
		return s.openAPIJSONErr
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.openAPIJSON) // the client went away; nothing left to tell it
	return nil
}

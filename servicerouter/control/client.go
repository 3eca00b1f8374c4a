package control

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Client calls a router's control API.
type Client struct {
	base string
	hc   *http.Client
}

// NewClient returns a client of the API at baseURL (e.g.
// "http://10.0.0.2:9180"). hc carries the requests (the orchestrator's
// dials through its VIM); nil is http.DefaultClient. Deadlines come from
// the contexts of the calls.
func NewClient(baseURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), hc: hc}
}

// Error is a non-2xx answer of the API.
type Error struct {
	Status  int    // HTTP status
	Message string // the server's "error"
}

func (e *Error) Error() string {
	return fmt.Sprintf("stitch-router: %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// PutServices replaces the router's services with svcs: services not
// listed are deleted.
func (c *Client) PutServices(ctx context.Context, svcs []Service) error {
	if svcs == nil {
		svcs = []Service{} // null would be refused: say "none" explicitly
	}
	return c.do(ctx, http.MethodPut, "/v1/services", servicesBody{Services: svcs}, nil)
}

// PostReports hands the instances' slot reports to the router; reports it
// could not take are in the result, the others are applied.
func (c *Client) PostReports(ctx context.Context, reps []Report) (ReportResult, error) {
	if reps == nil {
		reps = []Report{}
	}
	var res ReportResult
	err := c.do(ctx, http.MethodPost, "/v1/reports", reportsBody{Reports: reps}, &res)
	return res, err
}

// Services returns the router's view of its services.
func (c *Client) Services(ctx context.Context) ([]ServiceView, error) {
	var out viewsBody
	if err := c.do(ctx, http.MethodGet, "/v1/services", nil, &out); err != nil {
		return nil, err
	}
	return out.Services, nil
}

// Healthy returns nil when the router answers its health check.
func (c *Client) Healthy(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/healthz", nil, nil)
}

// do sends in (if not nil) as JSON and decodes the answer into out (if
// not nil); a non-2xx answer is an *Error.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("stitch-router: %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("stitch-router: %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("stitch-router: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return errorFrom(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxBodyBytes))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4*MaxBodyBytes)).Decode(out); err != nil {
		return fmt.Errorf("stitch-router: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// errorFrom reads the server's {"error": ...}, or the start of whatever
// else it sent (a proxy's page).
func errorFrom(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e errorBody
	if json.Unmarshal(b, &e) != nil || e.Error == "" {
		e.Error = strings.TrimSpace(string(b[:min(len(b), 512)]))
	}
	return &Error{Status: resp.StatusCode, Message: e.Error}
}

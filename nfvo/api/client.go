package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/vnfm"
)

// Client calls the northbound API. It implements Service, so code written
// against the orchestrator can drive a remote one.
type Client struct {
	// BaseURL is the server's address, e.g. "http://127.0.0.1:8181".
	BaseURL string
	// HTTP is the client to use; nil means http.DefaultClient. Set its
	// Timeout: the API's calls all answer promptly (operations run in the
	// background), so a stuck call is a broken connection.
	HTTP *http.Client
}

var _ Service = (*Client)(nil)

// APIError is an error answer of the API.
type APIError struct {
	Status  int
	Problem nfvo.Problem
}

// Error prints the problem's detail and its field errors, which is what an
// operator needs to fix the request.
func (e *APIError) Error() string {
	var b strings.Builder
	detail := e.Problem.Detail
	if detail == "" {
		detail = e.Problem.Title
	}
	if detail == "" {
		detail = http.StatusText(e.Status)
	}
	fmt.Fprintf(&b, "%s (HTTP %d)", detail, e.Status)
	for _, fe := range e.Problem.Errors {
		fmt.Fprintf(&b, "; %s: %s", fe.Path, fe.Reason)
	}
	return b.String()
}

// Is maps the problem back to nfvo's error classes, so callers check
// errors.Is(err, nfvo.ErrNotFound) alike for a local and a remote
// orchestrator. The problem type decides; the status code is the fallback
// for answers without one (e.g. from a proxy).
func (e *APIError) Is(target error) bool {
	switch e.Problem.Type {
	case ProblemTypeNotFound:
		return target == nfvo.ErrNotFound
	case ProblemTypeConflict, ProblemTypeBusy:
		return target == nfvo.ErrConflict
	case ProblemTypeState:
		return target == nfvo.ErrState
	case ProblemTypeInvalid, ProblemTypeBadRequest:
		return target == nfvo.ErrInvalid
	case ProblemTypeInternal:
		return false
	}
	switch e.Status {
	case http.StatusNotFound:
		return target == nfvo.ErrNotFound
	case http.StatusConflict:
		return target == nfvo.ErrConflict
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return target == nfvo.ErrInvalid
	}
	return false
}

// rawBody is a request body sent as is (a descriptor document).
type rawBody []byte

// do sends one request. in is nil, a rawBody, or a value to encode as JSON;
// out, if not nil, receives the decoded JSON answer.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var (
		body        io.Reader
		contentType string
	)
	switch v := in.(type) {
	case nil:
	case rawBody:
		body, contentType = bytes.NewReader(v), "application/yaml"
		if json.Valid(v) {
			contentType = "application/json"
		}
	default:
		js, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %s %s request: %w", method, path, err)
		}
		body, contentType = bytes.NewReader(js), "application/json"
	}
	u := strings.TrimSuffix(c.BaseURL, "/") + path
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return readAPIError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body) // drain, so the connection is reused
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, u, err)
	}
	return nil
}

// readAPIError turns an error answer into an *APIError, also when it is not
// problem details (a proxy's HTML page, a plain-text 502).
func readAPIError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20)) // best effort: the status alone is an answer
	e := &APIError{Status: resp.StatusCode}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == problemContentType || mt == "application/json" {
		if err := json.Unmarshal(body, &e.Problem); err != nil {
			e.Problem = nfvo.Problem{}
		}
	}
	if e.Problem.Status == 0 {
		e.Problem.Status = resp.StatusCode
	}
	if e.Problem.Title == "" {
		e.Problem.Title = http.StatusText(resp.StatusCode)
	}
	if e.Problem.Detail == "" {
		e.Problem.Detail = strings.TrimSpace(string(body))
	}
	if len(e.Problem.Detail) > 512 {
		e.Problem.Detail = e.Problem.Detail[:512] + "…"
	}
	return e
}

func item(collection, id string) string { return collection + "/" + url.PathEscape(id) }

// get fetches path into a value of type T.
func get[T any](ctx context.Context, c *Client, path string) (T, error) {
	var out T
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out, err
}

// post sends in to path and decodes the answer into a value of type T.
func post[T any](ctx context.Context, c *Client, path string, in any) (T, error) {
	var out T
	err := c.do(ctx, http.MethodPost, path, in, &out)
	return out, err
}

// Health checks that the server answers.
func (c *Client) Health(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/healthz", nil, nil)
}

// OnboardVNFD uploads a VNFD document (YAML or JSON).
func (c *Client) OnboardVNFD(ctx context.Context, doc []byte) (nfvo.VnfdInfo, error) {
	return post[nfvo.VnfdInfo](ctx, c, pathVnfPackages, rawBody(doc))
}

// ListVNFDs lists the onboarded VNFD versions.
func (c *Client) ListVNFDs(ctx context.Context) ([]nfvo.VnfdInfo, error) {
	return get[[]nfvo.VnfdInfo](ctx, c, pathVnfPackages)
}

// GetVNFD reads "<id>" (latest version) or "<id>:<version>".
func (c *Client) GetVNFD(ctx context.Context, id string) (nfvo.VnfdInfo, error) {
	return get[nfvo.VnfdInfo](ctx, c, item(pathVnfPackages, id))
}

// GetVNFDDocument reads the VNFD document as stitch stored it (JSON).
func (c *Client) GetVNFDDocument(ctx context.Context, id string) (json.RawMessage, error) {
	return get[json.RawMessage](ctx, c, item(pathVnfPackages, id)+"/vnfd")
}

// DeleteVNFD deletes a VNFD version.
func (c *Client) DeleteVNFD(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, item(pathVnfPackages, id), nil, nil)
}

// OnboardNSD uploads an NSD document (YAML or JSON).
func (c *Client) OnboardNSD(ctx context.Context, doc []byte) (nfvo.NsdInfo, error) {
	return post[nfvo.NsdInfo](ctx, c, pathNsDescriptors, rawBody(doc))
}

// ListNSDs lists the onboarded NSD versions.
func (c *Client) ListNSDs(ctx context.Context) ([]nfvo.NsdInfo, error) {
	return get[[]nfvo.NsdInfo](ctx, c, pathNsDescriptors)
}

// GetNSD reads "<id>" (latest version) or "<id>:<version>".
func (c *Client) GetNSD(ctx context.Context, id string) (nfvo.NsdInfo, error) {
	return get[nfvo.NsdInfo](ctx, c, item(pathNsDescriptors, id))
}

// GetNSDDocument reads the NSD document as stitch stored it (JSON).
func (c *Client) GetNSDDocument(ctx context.Context, id string) (json.RawMessage, error) {
	return get[json.RawMessage](ctx, c, item(pathNsDescriptors, id)+"/nsd")
}

// DeleteNSD deletes an NSD version.
func (c *Client) DeleteNSD(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, item(pathNsDescriptors, id), nil, nil)
}

// CreateNS creates an NS instance.
func (c *Client) CreateNS(ctx context.Context, req nfvo.CreateNsRequest) (nfvo.NsInstance, error) {
	return post[nfvo.NsInstance](ctx, c, pathNsInstances, req)
}

// ListNS lists the NS instances.
func (c *Client) ListNS(ctx context.Context) ([]nfvo.NsInstance, error) {
	return get[[]nfvo.NsInstance](ctx, c, pathNsInstances)
}

// GetNS reads an NS instance with its VNFCs.
func (c *Client) GetNS(ctx context.Context, id string) (nfvo.NsInstance, error) {
	return get[nfvo.NsInstance](ctx, c, item(pathNsInstances, id))
}

// SlotReports reads the latest session-slot reports of an NS instance's
// instances.
func (c *Client) SlotReports(ctx context.Context, id string) ([]nfvo.SlotReport, error) {
	return get[[]nfvo.SlotReport](ctx, c, item(pathNsInstances, id)+"/slots")
}

// ScalingPolicies evaluates the NS instance's scaling policies now.
func (c *Client) ScalingPolicies(ctx context.Context, id string) ([]nfvo.PolicyStatus, error) {
	return get[[]nfvo.PolicyStatus](ctx, c, item(pathNsInstances, id)+"/scaling_policies")
}

// TelemetryReports reads what the VNFM collects over gNMI from the NS
// instance's instances.
func (c *Client) TelemetryReports(ctx context.Context, id string) ([]vnfm.TelemetryReport, error) {
	return get[[]vnfm.TelemetryReport](ctx, c, item(pathNsInstances, id)+"/telemetry")
}

// UpdatePolicy changes a scaling policy of a running NS instance.
func (c *Client) UpdatePolicy(ctx context.Context, id, policyID string, upd nfvo.PolicyUpdate) (nfvo.PolicyStatus, error) {
	var out nfvo.PolicyStatus
	err := c.do(ctx, http.MethodPatch, item(pathNsInstances, id)+"/scaling_policies/"+url.PathEscape(policyID), upd, &out)
	return out, err
}

// Routers reads what the NS instance's service routers serve.
func (c *Client) Routers(ctx context.Context, id string) ([]nfvo.RouterView, error) {
	return get[[]nfvo.RouterView](ctx, c, item(pathNsInstances, id)+"/routers")
}

// DeleteNS deletes an NS instance that is not instantiated.
func (c *Client) DeleteNS(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, item(pathNsInstances, id), nil, nil)
}

// Instantiate starts instantiating an NS instance.
func (c *Client) Instantiate(ctx context.Context, id string, req nfvo.InstantiateRequest) (nfvo.LcmOpOcc, error) {
	return post[nfvo.LcmOpOcc](ctx, c, item(pathNsInstances, id)+"/instantiate", req)
}

// Scale starts scaling a constituent of an NS instance.
func (c *Client) Scale(ctx context.Context, id string, req nfvo.ScaleRequest) (nfvo.LcmOpOcc, error) {
	return post[nfvo.LcmOpOcc](ctx, c, item(pathNsInstances, id)+"/scale", req)
}

// Heal starts healing an NS instance.
func (c *Client) Heal(ctx context.Context, id string, req nfvo.HealRequest) (nfvo.LcmOpOcc, error) {
	return post[nfvo.LcmOpOcc](ctx, c, item(pathNsInstances, id)+"/heal", req)
}

// Terminate starts terminating an NS instance.
func (c *Client) Terminate(ctx context.Context, id string, req nfvo.TerminateRequest) (nfvo.LcmOpOcc, error) {
	return post[nfvo.LcmOpOcc](ctx, c, item(pathNsInstances, id)+"/terminate", req)
}

// ListOps lists operation occurrences, of one NS instance or ("") all.
func (c *Client) ListOps(ctx context.Context, nsID string) ([]nfvo.LcmOpOcc, error) {
	path := pathNsLcmOpOccs
	if nsID != "" {
		path += "?" + url.Values{"nsInstanceId": {nsID}}.Encode()
	}
	return get[[]nfvo.LcmOpOcc](ctx, c, path)
}

// GetOp reads an operation occurrence.
func (c *Client) GetOp(ctx context.Context, id string) (nfvo.LcmOpOcc, error) {
	return get[nfvo.LcmOpOcc](ctx, c, item(pathNsLcmOpOccs, id))
}

// RetryOp retries an operation in FAILED_TEMP.
func (c *Client) RetryOp(ctx context.Context, id string) (nfvo.LcmOpOcc, error) {
	return post[nfvo.LcmOpOcc](ctx, c, item(pathNsLcmOpOccs, id)+"/retry", nil)
}

// RollbackOp rolls back an operation in FAILED_TEMP.
func (c *Client) RollbackOp(ctx context.Context, id string) (nfvo.LcmOpOcc, error) {
	return post[nfvo.LcmOpOcc](ctx, c, item(pathNsLcmOpOccs, id)+"/rollback", nil)
}

// FailOp gives up on an operation in FAILED_TEMP.
func (c *Client) FailOp(ctx context.Context, id string) (nfvo.LcmOpOcc, error) {
	return post[nfvo.LcmOpOcc](ctx, c, item(pathNsLcmOpOccs, id)+"/fail", nil)
}

// CreateSubscription subscribes s.CallbackURI for s.NsInstanceIDs (empty:
// all); the server assigns the id and creation time, so s's are not sent.
func (c *Client) CreateSubscription(ctx context.Context, s nfvo.Subscription) (nfvo.Subscription, error) {
	return post[nfvo.Subscription](ctx, c, pathSubscriptions,
		SubscriptionRequest{CallbackURI: s.CallbackURI, NsInstanceIDs: s.NsInstanceIDs})
}

// ListSubscriptions lists the subscriptions.
func (c *Client) ListSubscriptions(ctx context.Context) ([]nfvo.Subscription, error) {
	return get[[]nfvo.Subscription](ctx, c, pathSubscriptions)
}

// GetSubscription reads a subscription.
func (c *Client) GetSubscription(ctx context.Context, id string) (nfvo.Subscription, error) {
	return get[nfvo.Subscription](ctx, c, item(pathSubscriptions, id))
}

// DeleteSubscription deletes a subscription.
func (c *Client) DeleteSubscription(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, item(pathSubscriptions, id), nil, nil)
}

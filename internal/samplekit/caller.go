package samplekit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
)

// Caller sends requests to the instances of a dependency (the bindings'
// deps of one profile), carrying the trace and skipping instances that
// fail to dial.
type Caller struct {
	rt      *Runtime
	targets func() []string
	picker  *Picker
	client  *http.Client
	// retryStatus, when set, also moves on to another instance for these
	// answers (a back end with no free slot answers 503).
	retryStatus func(code int) bool
	transport   *http.Transport
}

// NewCaller calls the instances targets lists. retryStatus may be nil.
func NewCaller(rt *Runtime, targets func() []string, retryStatus func(int) bool) *Caller {
	tr := NewTransport()
	return &Caller{
		rt:          rt,
		targets:     targets,
		picker:      NewPicker(RoundRobin, DefaultBadFor, nil),
		retryStatus: retryStatus,
		transport:   tr,
		client: &http.Client{
			Transport: tr,
			// A dependency's redirect is its answer, not ours to follow.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// Close drops idle connections.
func (c *Caller) Close() { c.transport.CloseIdleConnections() }

// Call sends method target ("/path?query") with body to one instance,
// trying each current instance at most once: after a dial error, or an
// answer retryStatus accepts, the next one is tried. trace is the inbound
// X-Stitch-Trace; this hop is appended. It returns the last answer and the
// instance that gave it, or ErrNoInstance when there was none to try.
func (c *Caller) Call(ctx context.Context, method, target, trace string, body []byte) (*http.Response, string, error) {
	candidates := c.targets()
	var (
		tried   []string
		last    *http.Response
		lastErr error
	)
	sent := AppendHop(trace, c.rt.Hop())
	for range candidates {
		addr, done, ok := c.picker.Pick(candidates, tried...)
		if !ok {
			break
		}
		tried = append(tried, addr)
		req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+target, bytes.NewReader(body))
		if err != nil {
			done()
			return nil, "", fmt.Errorf("build request: %w", err)
		}
		req.Header.Set(TraceHeader, sent)
		if body != nil {
			req.Header.Set("Content-Type", "application/octet-stream")
		}
		resp, err := c.client.Do(req)
		if err != nil {
			done()
			lastErr = fmt.Errorf("%s %s: %w", method, addr, err)
			if !IsDialError(err) {
				break
			}
			c.picker.MarkFailed(addr)
			c.rt.Logger.Warn("dependency unreachable, avoiding it", "addr", addr, "for", DefaultBadFor.String(), "err", err)
			continue
		}
		resp.Body = &doneBody{ReadCloser: resp.Body, done: done}
		if resp.Header.Get(TraceHeader) == "" {
			resp.Header.Set(TraceHeader, sent)
		}
		if last != nil {
			drain(last)
		}
		last, lastErr = resp, nil
		if c.retryStatus == nil || !c.retryStatus(resp.StatusCode) {
			break
		}
	}
	switch {
	case last != nil:
		return last, last.Request.URL.Host, nil
	case lastErr != nil:
		return nil, "", lastErr
	default:
		return nil, "", ErrNoInstance
	}
}

// drain reads a little of an unwanted body so the connection can be
// reused, then closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

package vnfm

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/stitchnfv/stitch/descriptors"
	"github.com/stitchnfv/stitch/vim"
)

// ErrExited means the instance's program ended while it was expected to run.
var ErrExited = errors.New("instance exited")

// Probe checks an instance once with its VDU's health check. An instance
// without one is healthy while the VIM says it runs.
func (m *Manager) Probe(ctx context.Context, site string, hc *descriptors.HealthCheck, addrs map[string]string) error {
	if hc == nil || hc.Type == "process" {
		return nil
	}
	target, err := probeTarget(hc, addrs)
	if err != nil {
		return err
	}
	timeout := hc.Timeout.Std()
	if timeout <= 0 {
		timeout = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if hc.Type == "tcp" {
		conn, err := m.vim.DialContext(ctx, site, "tcp", target)
		if err != nil {
			return fmt.Errorf("probe %s: %w", target, err)
		}
		return conn.Close()
	}
	status, _, err := m.get(ctx, site, target, hc.Path)
	if err != nil {
		return fmt.Errorf("probe %s: %w", target, err)
	}
	if status >= 300 {
		return fmt.Errorf("probe %s%s: HTTP %d", target, hc.Path, status)
	}
	return nil
}

// SlotsEndpoint is where an instance serves GET /slots: its health-check
// port (the sdk/slots contract).
func SlotsEndpoint(hc *descriptors.HealthCheck, addrs map[string]string) (string, error) {
	if hc == nil || hc.Port == 0 {
		return "", fmt.Errorf("no health-check port to read slots from")
	}
	return probeTarget(hc, addrs)
}

// probeTarget is the address:port a health check probes.
func probeTarget(hc *descriptors.HealthCheck, addrs map[string]string) (string, error) {
	ip := addrs[hc.Cpd]
	if ip == "" {
		for _, a := range addrs {
			ip = a
			break
		}
	}
	if ip == "" {
		return "", fmt.Errorf("no address to probe")
	}
	return net.JoinHostPort(ip, strconv.Itoa(hc.Port)), nil
}

// get performs one HTTP GET from inside a site and returns the status and
// at most 64 KiB of the body.
func (m *Manager) get(ctx context.Context, site, target, path string) (int, []byte, error) {
	conn, err := m.vim.DialContext(ctx, site, "tcp", target)
	if err != nil {
		return 0, nil, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+target+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("User-Agent", "stitch-vnfm")
	req.Close = true
	if err := req.Write(conn); err != nil {
		return 0, nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, body, err
}

// SessionsInUse asks an instance with session slots how many it holds
// (GET /slots on its health-check port, the slot contract of the sample
// programs), so that scale-in removes idle instances first.
func (m *Manager) SessionsInUse(ctx context.Context, site string, hc *descriptors.HealthCheck, addrs map[string]string) (int, error) {
	if hc == nil || hc.Port == 0 {
		return 0, fmt.Errorf("no port to ask for slots")
	}
	target, err := probeTarget(hc, addrs)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	status, body, err := m.get(ctx, site, target, "/slots")
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("GET /slots: HTTP %d", status)
	}
	var slots struct {
		InUse *int `json:"in_use"`
	}
	if err := json.Unmarshal(body, &slots); err != nil || slots.InUse == nil {
		return 0, fmt.Errorf("GET /slots: no in_use count")
	}
	return *slots.InUse, nil
}

// WaitHealthy polls the instance until its health check passes, its program
// exits (ErrExited, with the end of its log) or ctx ends.
func (m *Manager) WaitHealthy(ctx context.Context, name, site string, hc *descriptors.HealthCheck, addrs map[string]string) error {
	// Start probing fast: most programs are up within milliseconds, and the
	// probe is a cheap connect; back off for slow starters.
	interval := 5 * time.Millisecond
	// A probe's SYN sent before the fabric delivers to the new instance
	// (an SDN still installing its flows) is lost and retransmitted only
	// after TCP's initial 1 s timeout; a fresh attempt after a short
	// timeout gets through sooner. The attempt timeout doubles for
	// programs that are slow to answer, up to the health check's own.
	attempt := 100 * time.Millisecond
	var lastErr error
	for {
		inst, err := m.vim.GetInstance(ctx, name)
		if err != nil {
			return fmt.Errorf("vnfm: %s: %w", name, err)
		}
		switch inst.Status {
		case vim.StatusExited, vim.StatusError:
			return fmt.Errorf("vnfm: %s: %w with code %d%s", name, ErrExited, inst.ExitCode, logTail(inst.LogPath))
		case vim.StatusRunning:
			pctx, cancel := context.WithTimeout(ctx, attempt)
			lastErr = m.Probe(pctx, site, hc, addrs)
			cancel()
			if lastErr == nil {
				return nil
			}
			if errors.Is(lastErr, context.DeadlineExceeded) {
				attempt *= 2
			}
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("vnfm: %s not healthy: %w (last probe: %v)", name, ctx.Err(), lastErr)
			}
			return fmt.Errorf("vnfm: %s not healthy: %w", name, ctx.Err())
		case <-time.After(interval):
		}
		interval = min(interval*3/2, 250*time.Millisecond)
	}
}

// logTail returns the last lines of a log for error messages.
func logTail(path string) string {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return "; log: " + strings.Join(lines, " | ")
}

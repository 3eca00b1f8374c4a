package samplekit

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// ErrNoInstance means the bindings list no instance to send a request to.
var ErrNoInstance = errors.New("no instance available")

// IsDialError reports whether err is a failure to connect. Nothing was
// sent, so another instance may be tried even for a non-idempotent request.
func IsDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// NewTransport returns the transport programs use towards their
// neighbours. It ignores HTTP_PROXY: neighbours are on the service's own
// data network. The dial timeout is short so a dead instance is skipped
// quickly; there is no response timeout because sessions may be held open
// (backend ?hold=).
func NewTransport() *http.Transport {
	d := &net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}
}

// doneBody runs done once when the response body is closed, which is when
// the request stops counting as in flight for least-conn.
type doneBody struct {
	io.ReadCloser
	done func()
}

func (b *doneBody) Close() error {
	err := b.ReadCloser.Close()
	b.done()
	return err
}

// attemptBody lends a request body to one attempt. It remembers whether
// any byte was read (then a retry would send a truncated body) and does
// not pass Close on, because http.Transport closes the body even when the
// dial failed and the next attempt still needs it.
type attemptBody struct {
	rc   io.ReadCloser
	read *atomic.Bool
}

func (b attemptBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.read.Store(true)
	}
	return n, err
}

func (attemptBody) Close() error { return nil }

package ovntest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// ServeEcho listens on TCP addr ("10.0.1.20:8080") inside network namespace
// ns and echoes back whatever each connection sends, until t ends. It is the
// far end of real-traffic checks through OVN.
func ServeEcho(t testing.TB, ns, addr string) {
	t.Helper()
	var ln net.Listener
	err := InNetNS(ns, func() (err error) {
		ln, err = net.Listen("tcp4", addr)
		return err
	})
	if err != nil {
		t.Fatalf("ovntest: listen on %s in %s: %v", addr, ns, err)
	}
	var wg sync.WaitGroup
	// Registered after the namespace's own cleanup, so it runs first: the
	// listener and connections must close for the namespace to go away.
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(convergeTimeout))
				io.Copy(conn, conn)
			})
		}
	})
}

// Echo dials TCP addr from inside namespace ns, sends a message, and checks
// it comes back whole, all within timeout. A nil error means a TCP
// connection through the data path worked both ways.
func Echo(ns, addr string, timeout time.Duration) error {
	var conn net.Conn
	err := InNetNS(ns, func() (err error) {
		conn, err = net.DialTimeout("tcp4", addr, timeout)
		return err
	})
	if err != nil {
		return fmt.Errorf("dial %s from %s: %w", addr, ns, err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return fmt.Errorf("echo %s: %w", addr, err)
	}
	// Several segments' worth, so that an MTU or checksum problem shows
	// rather than hiding behind a handshake that fits in small packets.
	msg := bytes.Repeat([]byte("stitch "), 4096)
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Write(msg)
		if cw, ok := conn.(*net.TCPConn); ok && err == nil {
			err = cw.CloseWrite()
		}
		errc <- err
	}()
	got, err := io.ReadAll(conn)
	if werr := <-errc; werr != nil || err != nil {
		return fmt.Errorf("echo %s from %s: %w", addr, ns, errors.Join(werr, err))
	}
	if !bytes.Equal(got, msg) {
		return fmt.Errorf("echo %s from %s: got %d bytes back, sent %d", addr, ns, len(got), len(msg))
	}
	return nil
}

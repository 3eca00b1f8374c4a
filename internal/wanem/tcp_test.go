package wanem

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net"
	"testing"
	"time"
)

// TestRelayTCPRate sends 2 MB over TCP through a rate-limited, delayed
// relay. TCP from a local stack over veth uses checksum offload and GSO
// super-frames, so this checks the virtio-header pass-through as well as
// the rate: the data must arrive intact, and not faster than the rate.
func TestRelayTCPRate(t *testing.T) {
	t.Parallel()
	l := newWANLab(t)
	const rate = 40e6 // bit/s
	imp := Impairment{Delay: 5 * time.Millisecond, RateBps: rate}
	r := l.startRelay(t, imp, imp)

	var ln net.Listener
	if err := inNetNS(l.b, func() (err error) {
		ln, err = net.Listen("tcp4", net.JoinHostPort(addrB, "7008"))
		return err
	}); err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	type result struct {
		sum [32]byte
		n   int64
		err error
	}
	res := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			res <- result{err: err}
			return
		}
		defer c.Close()
		h := sha256.New()
		n, err := io.Copy(h, c)
		var out result
		copy(out.sum[:], h.Sum(nil))
		out.n, out.err = n, err
		res <- out
	}()

	data := make([]byte, 2<<20)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	var conn net.Conn
	if err := inNetNS(l.a, func() (err error) {
		d := net.Dialer{Timeout: 5 * time.Second}
		conn, err = d.Dial("tcp4", net.JoinHostPort(addrB, "7008"))
		return err
	}); err != nil {
		t.Fatalf("dial: %v", err)
	}
	start := time.Now()
	conn.SetDeadline(start.Add(10 * time.Second))
	if _, err := io.Copy(conn, bytes.NewReader(data)); err != nil {
		t.Fatalf("send: %v", err)
	}
	conn.Close()
	var got result
	select {
	case got = <-res:
	case <-time.After(10 * time.Second):
		t.Fatal("receiver did not finish")
	}
	elapsed := time.Since(start)
	if got.err != nil {
		t.Fatalf("receive: %v", got.err)
	}
	if got.n != int64(len(data)) || got.sum != sha256.Sum256(data) {
		t.Fatalf("received %d bytes (hash match %v), want %d intact", got.n, got.sum == sha256.Sum256(data), len(data))
	}
	ab, ba := r.Stats()
	mbit := float64(len(data)) * 8 / elapsed.Seconds() / 1e6
	t.Logf("2 MB in %v (%.1f Mbit/s); a->b %+v, b->a %+v", elapsed, mbit, ab, ba)
	// The payload alone needs len*8/rate; allow 10% for timer slack.
	if min := time.Duration(float64(len(data)*8) / rate * 0.9 * float64(time.Second)); elapsed < min {
		t.Errorf("2 MB took %v at %v bit/s, want at least %v", elapsed, rate, min)
	}
}

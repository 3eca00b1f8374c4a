package daemon

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"
)

func TestAddrWatcherFindsTheServingLine(t *testing.T) {
	var out bytes.Buffer
	w, addr := AddrWatcher(&out)
	log := slog.New(slog.NewTextHandler(w, nil))
	log.Info("driver ready", "sites", 2)
	// The line Start writes, split across writes as a pipe may deliver it.
	var line bytes.Buffer
	slog.New(slog.NewTextHandler(&line, nil)).Info("stitchd serving", "addr", "127.0.0.1:4242", "state-dir", "/x")
	b := line.Bytes()
	fmt.Fprint(w, string(b[:20]))
	fmt.Fprint(w, string(b[20:]))
	log.Info("stitchd serving", "addr", "127.0.0.1:9999") // only the first counts
	select {
	case got := <-addr:
		if got != "127.0.0.1:4242" {
			t.Fatalf("addr = %q", got)
		}
	default:
		t.Fatal("no address reported")
	}
	if !bytes.Contains(out.Bytes(), []byte("driver ready")) || !bytes.Contains(out.Bytes(), []byte("9999")) {
		t.Fatalf("log not passed through:\n%s", out.String())
	}
}

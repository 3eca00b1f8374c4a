package daemon

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// servingMarker starts the log line (text handler) that Start writes once
// the API listens.
const servingMarker = `msg="stitchd serving" addr=`

// AddrWatcher passes a daemon's log through to w and reports, once, the
// address its API serves on: what a parent process that started stitchd
// with port 0 needs to know.
func AddrWatcher(w io.Writer) (io.Writer, <-chan string) {
	ch := make(chan string, 1)
	return &addrWatcher{w: w, ch: ch}, ch
}

type addrWatcher struct {
	w    io.Writer
	ch   chan string
	mu   sync.Mutex
	line []byte
	done bool
}

func (a *addrWatcher) Write(p []byte) (int, error) {
	a.mu.Lock()
	if !a.done {
		a.line = append(a.line, p...)
		for {
			i := bytes.IndexByte(a.line, '\n')
			if i < 0 {
				break
			}
			if j := bytes.Index(a.line[:i], []byte(servingMarker)); j >= 0 {
				a.ch <- strings.Fields(string(a.line[j+len(servingMarker) : i]))[0]
				a.done, a.line = true, nil
				break
			}
			a.line = a.line[i+1:]
		}
	}
	a.mu.Unlock()
	return a.w.Write(p)
}

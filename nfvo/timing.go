package nfvo

import (
	"sync"
	"time"
)

// run carries one reconcile pass of an operation.
type run struct {
	opID  string
	start time.Time
	mu    sync.Mutex
	path  timing // critical path, summed over layers
}

// timing is where one instance's bring-up spent its time.
type timing struct {
	vim  time.Duration // VIM calls
	wait time.Duration // program start to healthy
}

func (t timing) total() time.Duration { return t.vim + t.wait }

// addVIM adds VIM time spent on the critical path (removals, networks).
func (r *run) addVIM(d time.Duration) {
	r.mu.Lock()
	r.path.vim += d
	r.mu.Unlock()
}

func slowest(ts []timing) timing {
	var out timing
	for _, t := range ts {
		if t.total() > out.total() {
			out = t
		}
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

package wanem

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// inNetNS runs fn on a fresh goroutine locked to its OS thread, inside the
// named network namespace ("" = the caller's), and puts the thread back
// afterwards. Sockets fn creates stay in that namespace wherever they are
// used later. If the original namespace cannot be restored the goroutine
// exits still locked, so the runtime kills the thread instead of reusing it
// in the wrong namespace.
func inNetNS(name string, fn func() error) error {
	if name == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("get current netns: %w", err)
			return
		}
		defer orig.Close()
		target, err := netns.GetFromName(name)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open netns %q: %w", name, err)
			return
		}
		defer target.Close()
		var ferr error
		if err := netns.Set(target); err != nil {
			ferr = fmt.Errorf("enter netns %q: %w", name, err)
		} else {
			ferr = fn()
		}
		if err := netns.Set(orig); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("restore netns: %w", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

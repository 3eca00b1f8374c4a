// Package namedns manages named network namespaces as `ip netns` does
// (bind mounts under /run/netns, so operators can look inside with `ip netns
// exec`) and runs code inside one on a locked OS thread. The local VIM, the
// lab runner, the WAN relay and the OVN test harness share it.
package namedns

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Dir is where named network namespaces live.
const Dir = "/run/netns"

// Path is the bind-mount file of a named namespace.
func Path(name string) string { return filepath.Join(Dir, name) }

// PrepareDir makes Dir a shared mount point, like iproute2, so namespaces
// created here are visible in other mount namespaces too.
func PrepareDir() error {
	if err := os.MkdirAll(Dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", Dir, err)
	}
	err := unix.Mount("", Dir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if errors.Is(err, unix.EINVAL) {
		if err := unix.Mount(Dir, Dir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind mount %s: %w", Dir, err)
		}
		err = unix.Mount("", Dir, "none", unix.MS_SHARED|unix.MS_REC, "")
	}
	if err != nil {
		return fmt.Errorf("make %s shared: %w", Dir, err)
	}
	return nil
}

// Create makes the named namespace and returns a handle to it. It fails
// with fs.ErrExist when the name is taken, so nobody adopts a namespace it
// did not create.
func Create(name string) (netns.NsHandle, error) {
	path := Path(name)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return netns.None(), fmt.Errorf("create netns %s: %w", name, err)
	}
	f.Close()
	err = OnThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare: %w", err)
		}
		self := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		if err := unix.Mount(self, path, "none", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind mount: %w", err)
		}
		return nil
	})
	if err != nil {
		_ = unix.Unmount(path, unix.MNT_DETACH)
		_ = os.Remove(path)
		return netns.None(), fmt.Errorf("create netns %s: %w", name, err)
	}
	h, err := netns.GetFromPath(path)
	if err != nil {
		_ = Delete(name)
		return netns.None(), fmt.Errorf("open netns %s: %w", name, err)
	}
	return h, nil
}

// Open opens an existing named namespace; fs.ErrNotExist when it is absent
// (including a file left behind without its bind mount).
func Open(name string) (netns.NsHandle, error) {
	path := Path(name)
	if !IsMount(path) {
		return netns.None(), fmt.Errorf("netns %s: %w", name, fs.ErrNotExist)
	}
	h, err := netns.GetFromPath(path)
	if err != nil {
		return netns.None(), fmt.Errorf("open netns %s: %w", name, err)
	}
	return h, nil
}

// IsMount reports whether path is a mounted network namespace (its file
// system is nsfs, not the tmpfs of /run).
func IsMount(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Type == unix.NSFS_MAGIC
}

// Delete unmounts and removes a named namespace; missing is not an error.
// The kernel frees the namespace, and the links in it, once no process or
// handle refers to it any more.
func Delete(name string) error {
	path := Path(name)
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil &&
		!errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount netns %s: %w", name, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove netns %s: %w", name, err)
	}
	return nil
}

// List returns the named namespaces whose names start with prefix.
func List(prefix string) ([]string, error) {
	entries, err := os.ReadDir(Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", Dir, err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// ID identifies a namespace: device and inode of its nsfs file.
type ID struct{ Dev, Ino uint64 }

// IDOf identifies the namespace at path (a bind mount or /proc/PID/ns/net).
func IDOf(path string) (ID, bool) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return ID{}, false
	}
	return ID{uint64(st.Dev), st.Ino}, true
}

// OnThread runs fn on a fresh goroutine locked to its OS thread and puts
// the thread back into its original network namespace afterwards; fn may
// change the thread's namespace (setns, unshare). If the original cannot be
// restored the goroutine exits still locked, so the Go runtime terminates
// the thread instead of reusing it in the wrong namespace.
func OnThread(fn func() error) error {
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
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			// Stay locked: the thread dies with this goroutine.
			errc <- errors.Join(ferr, fmt.Errorf("restore netns: %w", err))
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// Do runs fn with its thread inside ns. Sockets fn creates stay in ns
// wherever they are used later; a process fn starts inherits it.
func Do(ns netns.NsHandle, fn func() error) error {
	return OnThread(func() error {
		if err := netns.Set(ns); err != nil {
			return fmt.Errorf("setns: %w", err)
		}
		return fn()
	})
}

// DoNamed runs fn inside the named namespace ("" = the caller's own).
func DoNamed(name string, fn func() error) error {
	if name == "" {
		return fn()
	}
	h, err := Open(name)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := Do(h, fn); err != nil {
		return fmt.Errorf("in netns %s: %w", name, err)
	}
	return nil
}

package local

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

// netnsDir is where named network namespaces live, as with `ip netns`.
const netnsDir = "/run/netns"

// onThread runs fn on a fresh goroutine locked to its OS thread, then puts
// the thread back into the network namespace it started in. fn may change
// the thread's network namespace (setns, unshare). If the original namespace
// cannot be restored the goroutine exits still locked, so the Go runtime
// terminates the thread instead of reusing it in the wrong namespace.
func onThread(fn func() error) error {
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

// inNetNS runs fn with the calling thread inside ns.
func inNetNS(ns netns.NsHandle, fn func() error) error {
	return onThread(func() error {
		if err := netns.Set(ns); err != nil {
			return fmt.Errorf("setns: %w", err)
		}
		return fn()
	})
}

// prepareNetnsDir makes /run/netns a shared mount point, like iproute2, so
// namespaces created here are visible in other mount namespaces too.
func prepareNetnsDir() error {
	if err := os.MkdirAll(netnsDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", netnsDir, err)
	}
	err := unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if errors.Is(err, unix.EINVAL) {
		if err := unix.Mount(netnsDir, netnsDir, "none", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind mount %s: %w", netnsDir, err)
		}
		err = unix.Mount("", netnsDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	}
	if err != nil {
		return fmt.Errorf("make %s shared: %w", netnsDir, err)
	}
	return nil
}

func netnsPath(name string) string { return filepath.Join(netnsDir, name) }

// createNetNS creates the named namespace and returns a handle to it. It
// fails with fs.ErrExist when the name is taken.
func createNetNS(name string) (netns.NsHandle, error) {
	path := netnsPath(name)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return netns.None(), fmt.Errorf("create netns %s: %w", name, err)
	}
	f.Close()
	err = onThread(func() error {
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
		unix.Unmount(path, unix.MNT_DETACH)
		os.Remove(path)
		return netns.None(), fmt.Errorf("create netns %s: %w", name, err)
	}
	h, err := netns.GetFromPath(path)
	if err != nil {
		deleteNetNS(name)
		return netns.None(), fmt.Errorf("open netns %s: %w", name, err)
	}
	return h, nil
}

// openNetNS opens an existing named namespace; fs.ErrNotExist when absent
// (including a file left without its bind mount).
func openNetNS(name string) (netns.NsHandle, error) {
	path := netnsPath(name)
	if !isNetNSMount(path) {
		return netns.None(), fmt.Errorf("netns %s: %w", name, fs.ErrNotExist)
	}
	h, err := netns.GetFromPath(path)
	if err != nil {
		return netns.None(), fmt.Errorf("open netns %s: %w", name, err)
	}
	return h, nil
}

// isNetNSMount reports whether path is a mounted network namespace (its
// file system is nsfs, not the tmpfs of /run).
func isNetNSMount(path string) bool {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Type == unix.NSFS_MAGIC
}

// deleteNetNS unmounts and removes a named namespace. The kernel frees the
// namespace (and the links in it) once nothing else refers to it. Missing is
// not an error.
func deleteNetNS(name string) error {
	path := netnsPath(name)
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil &&
		!errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount netns %s: %w", name, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove netns %s: %w", name, err)
	}
	return nil
}

// listNetNS lists the named namespaces whose names start with prefix.
func listNetNS(prefix string) ([]string, error) {
	entries, err := os.ReadDir(netnsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", netnsDir, err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// nsID identifies a namespace: device and inode of its nsfs file.
type nsID struct{ dev, ino uint64 }

func nsIDOf(path string) (nsID, bool) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nsID{}, false
	}
	return nsID{uint64(st.Dev), st.Ino}, true
}

// configureNetNS runs inside a site namespace and disables IPv6 there, for
// the bridges and veth ends created in it later too: the data plane is
// IPv4, and the link-local autoconfiguration of every new port (DAD, MLD,
// router solicitations) would otherwise be flooded to every port of the
// bridges, costing each create time in proportion to the instances running.
// (Instance namespaces get no sysctl write: looking up /proc/sys/net costs
// time in proportion to the number of namespaces on the host; their
// interfaces are told not to autoconfigure over netlink instead.)
func configureNetNS() error {
	for _, key := range []string{"net.ipv6.conf.default.disable_ipv6", "net.ipv6.conf.all.disable_ipv6"} {
		if err := setSysctl(key, "1"); err != nil && !errors.Is(err, fs.ErrNotExist) { // no IPv6: fine
			return err
		}
	}
	return nil
}

// setSysctl writes a /proc/sys value; call it inside the target namespace.
func setSysctl(key, value string) error {
	path := "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", key, value, err)
	}
	return nil
}

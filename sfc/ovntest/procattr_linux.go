package ovntest

import "syscall"

// daemonAttr makes the kernel kill a daemon if the test binary dies without
// running its cleanups (a -timeout panic, a SIGKILL), so no ovsdb-server or
// ovn-northd outlives the test run.
func daemonAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

//go:build !linux

package ovntest

import "syscall"

// daemonAttr has no parent-death signal to offer outside Linux; cleanups
// still stop the daemons when tests end normally.
func daemonAttr() *syscall.SysProcAttr { return nil }

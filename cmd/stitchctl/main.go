// Command stitchctl is the operator's CLI for stitch: it onboards
// descriptors, runs NS lifecycle operations and watches them, over the
// northbound REST API (package nfvo/api).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// ^C stops a --watch, not the operation it watches.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Command stitch-demo runs stitch's demo on the embedded defaults: it starts
// stitchd, onboards the examples, instantiates the complex service
// (firewall → load balancer → web → 3 back ends → database on sites edge
// and core), sends real requests through it, shows the status, and
// terminates it cleanly.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if len(os.Args) > 1 && os.Args[1] == "request" {
		err = request(ctx, os.Args[2:], os.Stdout)
	} else {
		err = run(ctx, os.Args[1:], os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stitch-demo:", err)
		os.Exit(1)
	}
}

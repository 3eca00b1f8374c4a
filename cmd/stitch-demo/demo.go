package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stitchnfv/stitch/internal/config"
	"github.com/stitchnfv/stitch/internal/daemon"
	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/nfvo/api"
	"github.com/stitchnfv/stitch/vim/local"
	"sigs.k8s.io/yaml"
)

// demo holds what the steps share.
type demo struct {
	out    io.Writer
	binDir string
	cfg    config.Config
	client *api.Client
	daemon *exec.Cmd
	exited chan error // the daemon's Wait result, once it started
	self   string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("stitch-demo", flag.ContinueOnError)
	self, _ := os.Executable()
	binDir := fs.String("bin-dir", filepath.Dir(self), "directory holding stitchd and the sample programs")
	examples := fs.String("examples", "examples", "directory of the example descriptors")
	stateDir := fs.String("state-dir", "", "state directory (default: a new temporary one, removed at the end)")
	requests := fs.Int("requests", 6, "requests to send through the service")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		return errors.New("the demo creates network namespaces: run it as root")
	}
	if *stateDir == "" {
		dir, err := os.MkdirTemp("", "stitch-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*stateDir = dir
	}
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.StateDir = *stateDir
	cfg.VIM.Prefix = "demo"
	cfg.ProgramPath = []string{*binDir}
	d := &demo{out: out, binDir: *binDir, cfg: cfg, self: self}
	defer d.cleanup()
	if err := d.startDaemon(ctx); err != nil {
		return err
	}
	return d.steps(ctx, *examples, *requests)
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, "\n== "+format+"\n", args...)
}

func (d *demo) steps(ctx context.Context, examples string, requests int) error {
	d.say("onboarding the example descriptors from %s", examples)
	if err := d.onboard(ctx, examples); err != nil {
		return err
	}
	ns, err := d.client.CreateNS(ctx, nfvo.CreateNsRequest{NsdID: "complex-service", Name: "demo"})
	if err != nil {
		return err
	}
	d.say("instantiating NS %s (complex-service)", ns.ID)
	op, err := d.client.Instantiate(ctx, ns.ID, nfvo.InstantiateRequest{})
	if err != nil {
		return err
	}
	if op, err = d.watch(ctx, op.ID); err != nil {
		return err
	}
	if op.Stats != nil {
		fmt.Fprintf(d.out, "instantiated in %.0f ms: %.0f ms in the VIM, %.0f ms waiting for programs, %.0f ms orchestrator overhead\n",
			op.Stats.DurationMs, op.Stats.VimMs, op.Stats.InstanceWaitMs, op.Stats.OverheadMs)
	}
	if ns, err = d.client.GetNS(ctx, ns.ID); err != nil {
		return err
	}
	d.say("status")
	d.table(ns)
	if err := d.traffic(ctx, ns, requests); err != nil {
		return err
	}
	d.say("terminating")
	op, err = d.client.Terminate(ctx, ns.ID, nfvo.TerminateRequest{GracefulTerminationTimeout: 5})
	if err != nil {
		return err
	}
	if _, err = d.watch(ctx, op.ID); err != nil {
		return err
	}
	if err := d.client.DeleteNS(ctx, ns.ID); err != nil {
		return err
	}
	fmt.Fprintln(d.out, "terminated and deleted; no instance of the service is left")
	return nil
}

func (d *demo) onboard(ctx context.Context, dir string) error {
	for _, kind := range []string{"vnfd", "nsd"} {
		files, err := filepath.Glob(filepath.Join(dir, kind, "*.yaml"))
		if err != nil || len(files) == 0 {
			return fmt.Errorf("no %s examples under %s", kind, dir)
		}
		sort.Strings(files)
		for _, f := range files {
			doc, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			if kind == "vnfd" {
				info, err := d.client.OnboardVNFD(ctx, doc)
				if err != nil {
					return fmt.Errorf("%s: %w", f, err)
				}
				fmt.Fprintf(d.out, "  VNFD %-18s %-13s %s\n", info.VnfdID, info.Kind, filepath.Base(f))
			} else {
				info, err := d.client.OnboardNSD(ctx, doc)
				if err != nil {
					return fmt.Errorf("%s: %w", f, err)
				}
				fmt.Fprintf(d.out, "  NSD  %-18s %s\n", info.NsdID, filepath.Base(f))
			}
		}
	}
	return nil
}

// watch prints an operation's steps until it ends.
func (d *demo) watch(ctx context.Context, id string) (nfvo.LcmOpOcc, error) {
	seen := 0
	for {
		op, err := d.client.GetOp(ctx, id)
		if err != nil {
			return op, err
		}
		for _, s := range op.Steps[min(seen, len(op.Steps)):] {
			fmt.Fprintf(d.out, "  %s  %s\n", s.At.Format("15:04:05.000"), s.Message)
		}
		seen = len(op.Steps)
		switch {
		case op.OperationState == nfvo.OpCompleted:
			return op, nil
		case op.OperationState.Final() || op.OperationState == nfvo.OpFailedTemp:
			return op, fmt.Errorf("operation %s ended %s: %v", op.ID, op.OperationState, op.Error)
		}
		select {
		case <-ctx.Done():
			return op, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (d *demo) table(ns nfvo.NsInstance) {
	fmt.Fprintf(d.out, "NS %s  %s  %s\n", ns.Name, ns.State, ns.Status)
	w := tabwriter.NewWriter(d.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "INSTANCE\tPROFILE\tSITE\tSTATE\tADDRESS\tSLOTS\tWHY THERE")
	for _, v := range ns.Vnfcs {
		var addrs []string
		for _, a := range v.Addresses {
			addrs = append(addrs, a)
		}
		reason, _, _ := strings.Cut(v.Placement, ";")
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", v.ID, v.Profile, v.Site, v.State, strings.Join(addrs, ","), v.Slots, reason)
	}
	w.Flush()
}

// traffic sends requests from a client in the edge site to the service's
// entry, the firewall, and prints which instances answered.
func (d *demo) traffic(ctx context.Context, ns nfvo.NsInstance, n int) error {
	var entry string
	for _, v := range ns.Vnfcs {
		if v.Profile == "fw" {
			entry = v.Addresses["data"]
		}
	}
	if entry == "" {
		return errors.New("no firewall instance to send requests to")
	}
	d.say("sending %d requests from a client in site edge to http://%s:8080/", n, entry)
	args := []string{"netns", "exec", local.SiteNamespace(d.cfg.VIM.Prefix, "edge"), d.self, "request",
		"-n", fmt.Sprint(n), "http://" + entry + ":8080/", "http://" + entry + ":8080/admin"}
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Stdout, cmd.Stderr = d.out, d.out
	return cmd.Run()
}

func (d *demo) startDaemon(ctx context.Context) error {
	cfgPath := filepath.Join(d.cfg.StateDir, "stitchd.yaml")
	b, err := yaml.Marshal(d.cfg)
	if err != nil {
		return err
	}
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		return err
	}
	logPath := filepath.Join(d.cfg.StateDir, "stitchd.log")
	d.say("starting stitchd (sites edge and core; log %s)", logPath)
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	logw, addr := daemon.AddrWatcher(logFile)
	d.daemon = exec.Command(filepath.Join(d.binDir, "stitchd"), "--config", cfgPath)
	d.daemon.Stderr = logw
	if err := d.daemon.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting stitchd: %w", err)
	}
	d.exited = make(chan error, 1)
	go func() {
		d.exited <- d.daemon.Wait()
		logFile.Close()
	}()
	select {
	case a := <-addr:
		d.client = &api.Client{BaseURL: "http://" + a, HTTP: &http.Client{Timeout: 10 * time.Second}}
		fmt.Fprintf(d.out, "stitchd is serving its API on http://%s\n", a)
		return nil
	case err := <-d.exited:
		d.exited <- err
		return fmt.Errorf("stitchd exited (%v); see %s", err, logPath)
	case <-time.After(30 * time.Second):
		return fmt.Errorf("stitchd did not start; see %s", logPath)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cleanup stops the daemon and removes the demo's sites.
func (d *demo) cleanup() {
	if d.exited != nil {
		_ = d.daemon.Process.Signal(os.Interrupt)
		select {
		case <-d.exited:
		case <-time.After(10 * time.Second):
			_ = d.daemon.Process.Kill()
			<-d.exited
		}
	}
	if err := local.Purge(context.Background(), d.cfg.VIM.Prefix); err != nil {
		fmt.Fprintln(d.out, "cleanup:", err)
	}
}

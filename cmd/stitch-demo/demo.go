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
	"github.com/stitchnfv/stitch/lab"
	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/nfvo/api"
	"github.com/stitchnfv/stitch/vim/local"
	"github.com/stitchnfv/stitch/vnfm"
	"sigs.k8s.io/yaml"
)

// demo holds what the steps share.
type demo struct {
	out     io.Writer
	binDir  string
	cfg     config.Config
	client  *api.Client
	daemon  *exec.Cmd
	exited  chan error // the daemon's Wait result, once it started
	self    string
	labs    *lab.Runner // the lab the sites run on (ovn fabric)
	labName string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("stitch-demo", flag.ContinueOnError)
	self, _ := os.Executable()
	binDir := fs.String("bin-dir", filepath.Dir(self), "directory holding stitchd and the sample programs")
	examples := fs.String("examples", "examples", "directory of the example descriptors")
	stateDir := fs.String("state-dir", "", "state directory (default: a new temporary one, removed at the end)")
	requests := fs.Int("requests", 6, "requests to send through the service")
	fabric := fs.String("fabric", config.FabricOVN, "how sites are wired: ovn (each site an OVN chassis on the lab's node) or bridge (Linux bridges, no lab)")
	labFile := fs.String("lab", filepath.Join("lab", "two-site.clab.yml"), "containerlab topology whose chassis nodes become the sites (ovn fabric)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *fabric != config.FabricOVN && *fabric != config.FabricBridge {
		return fmt.Errorf("--fabric %q: want ovn or bridge", *fabric)
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
	cfg.Network.Fabric = *fabric
	d := &demo{out: out, binDir: *binDir, cfg: cfg, self: self}
	defer d.cleanup()
	if *fabric == config.FabricOVN {
		if err := d.deployLab(ctx, *labFile); err != nil {
			return err
		}
	}
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
	if err := d.slots(ctx, ns); err != nil {
		return err
	}
	if err := d.routers(ctx, ns); err != nil {
		return err
	}
	if err := d.operations(ctx, ns); err != nil {
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

// sapAddress is the example NSD's service access point (sapd web-entry),
// which the OVN fabric serves as a load balancer on the firewalls.
const sapAddress = "10.10.0.100:8080"

// traffic sends requests from a client in the edge site to the service's
// entry, and prints which instances answered: the service access point on
// OVN, the firewall's own address on bridges (which serve no SAP).
func (d *demo) traffic(ctx context.Context, ns nfvo.NsInstance, n int) error {
	entry := sapAddress
	if d.cfg.Network.Fabric != config.FabricOVN {
		entry = ""
		for _, v := range ns.Vnfcs {
			if v.Profile == "fw" {
				entry = v.Addresses["data"] + ":8080"
			}
		}
		if entry == "" {
			return errors.New("no firewall instance to send requests to")
		}
	}
	d.say("sending %d requests from a client in site edge to http://%s/ (web runs on edge, the back ends on core: each visit crosses the WAN)", n, entry)
	args := []string{"netns", "exec", d.siteNamespace("edge"), d.self, "request",
		"-n", fmt.Sprint(n), "http://" + entry + "/", "http://" + entry + "/admin"}
	cmd := exec.CommandContext(ctx, "ip", args...)
	cmd.Stdout, cmd.Stderr = d.out, d.out
	return cmd.Run()
}

// slots shows the session slots stitch collected from the back ends (what
// the service router balances on), waiting briefly for the first reports.
func (d *demo) slots(ctx context.Context, ns nfvo.NsInstance) error {
	d.say("session slots as stitch last read them (GET /nslcm/v1/ns_instances/%s/slots)", ns.ID)
	var reports []nfvo.SlotReport
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var err error
		if reports, err = d.client.SlotReports(ctx, ns.ID); err != nil {
			return err
		}
		fresh := 0
		for _, r := range reports {
			if !r.ReportedAt.IsZero() {
				fresh++
			}
		}
		if (len(reports) > 0 && fresh == len(reports)) || time.Now().After(deadline) {
			break
		}
	}
	w := tabwriter.NewWriter(d.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "INSTANCE\tSITE\tMAX\tAVAILABLE\tIN USE\tREPORT AGE")
	for _, r := range reports {
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%.0f ms\n", r.VnfcID, r.Site, r.Max, r.Available, r.InUse, r.AgeMs)
	}
	return w.Flush()
}

// routers shows what the service router in front of the SAP made of the
// requests: each entry instance's share of new sessions and why.
func (d *demo) routers(ctx context.Context, ns nfvo.NsInstance) error {
	routers, err := d.client.Routers(ctx, ns.ID)
	if err != nil || len(routers) == 0 {
		return err
	}
	d.say("the service router in front of the SAP (GET /nslcm/v1/ns_instances/%s/routers)", ns.ID)
	w := tabwriter.NewWriter(d.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ROUTER	SERVICE	INSTANCE	SHARE	WEIGHT	NEW SESSIONS	REFUSED")
	for _, r := range routers {
		if r.Error != "" {
			fmt.Fprintf(w, "%s\t-\t-\t-\t-\t-\tunreachable: %s\n", r.VnfcID, r.Error)
		}
		for _, s := range r.Services {
			for _, in := range s.Instances {
				fmt.Fprintf(w, "%s\t%s:%d\t%s\t%.1f%%\t%d\t%d\t\n", r.VnfcID, s.VIP, s.Port, in.ID, in.Share, in.Estimate.Weight, in.Counters.NewSessions)
			}
			fmt.Fprintf(w, "%s\t%s:%d\t(all)\t\t\t%d\t%d\n", r.VnfcID, s.VIP, s.Port, s.Counters.NewSessions, s.Counters.Refused)
		}
	}
	return w.Flush()
}

// operations shows what keeps the service running: the VNFM's gNMI
// subscriptions to every instance and the scaling policies' verdicts.
func (d *demo) operations(ctx context.Context, ns nfvo.NsInstance) error {
	d.say("telemetry: what stitch follows over gNMI (GET /nslcm/v1/ns_instances/%s/telemetry)", ns.ID)
	var reports []vnfm.TelemetryReport
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var err error
		if reports, err = d.client.TelemetryReports(ctx, ns.ID); err != nil {
			return err
		}
		up := 0
		for _, r := range reports {
			if r.OperStatus == "UP" {
				up++
			}
		}
		if (len(reports) > 0 && up == len(reports)) || time.Now().After(deadline) {
			break
		}
	}
	w := tabwriter.NewWriter(d.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "INSTANCE\tSTATUS\tMETRICS")
	for _, r := range reports {
		var metrics []string
		for _, v := range r.Values {
			if len(v.IDs) > 0 {
				metrics = append(metrics, fmt.Sprintf("%s=%g", strings.Join(v.IDs, ","), v.Value))
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", r.Instance, r.OperStatus, strings.Join(metrics, " "))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	policies, err := d.client.ScalingPolicies(ctx, ns.ID)
	if err != nil {
		return err
	}
	d.say("scaling policies (GET /nslcm/v1/ns_instances/%s/scaling_policies)", ns.ID)
	for _, p := range policies {
		fmt.Fprintf(d.out, "  %s on %s (%d instances): %s\n", p.ID, p.VnfProfileID, p.Instances, p.Verdict)
	}
	return nil
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

// siteNamespace is where a client of a site runs: the lab's node on OVN.
func (d *demo) siteNamespace(site string) string {
	for _, s := range d.cfg.VIM.Sites {
		if s.Name == site && s.NetNS != "" {
			return s.NetNS
		}
	}
	return local.SiteNamespace(d.cfg.VIM.Prefix, site)
}

// deployLab realises the lab's nodes and WAN link as namespaces and makes
// its chassis nodes the sites, each an OVN chassis of its own.
func (d *demo) deployLab(ctx context.Context, file string) error {
	for _, prog := range []string{"ovsdb-server", "ovn-northd", "ovs-vswitchd", "ovn-controller"} {
		if _, err := exec.LookPath(prog); err != nil {
			return fmt.Errorf("the OVN fabric needs %s (Debian: ovn-central ovn-host openvswitch-switch; ./scripts/demo installs them), or run with --fabric bridge", prog)
		}
	}
	topo, err := lab.ParseFile(file, nil)
	if err != nil {
		return err
	}
	topo.Name = "stitch-demo"
	d.say("deploying lab %s: %s", file, siteList(topo))
	d.labs = lab.NewRunner(filepath.Join(d.cfg.StateDir, "labs"), nil)
	if _, err := d.labs.Deploy(ctx, topo, lab.DeployOptions{RelayCommand: filepath.Join(d.binDir, "stitch-wanrelay")}); err != nil {
		if errors.Is(err, lab.ErrAlreadyDeployed) {
			err = fmt.Errorf("%w (a previous demo still runs? `stitchctl lab destroy %s`)", err, file)
		}
		d.labs = nil
		return err
	}
	d.labName = topo.Name
	capacity := map[string]config.Capacity{}
	for _, s := range d.cfg.VIM.Sites {
		capacity[s.Name] = s.Capacity
	}
	d.cfg.VIM.Sites = nil
	for _, n := range topo.SiteNodes() {
		d.cfg.VIM.Sites = append(d.cfg.VIM.Sites, config.Site{
			Name: n.Site, NetNS: n.NetNS, EncapIP: n.EncapIP.String(), Capacity: capacity[n.Site],
		})
	}
	return nil
}

func siteList(topo *lab.Topology) string {
	var parts []string
	for _, n := range topo.SiteNodes() {
		parts = append(parts, fmt.Sprintf("site %s on node %s (tunnels from %s)", n.Site, n.Node, n.EncapIP))
	}
	for _, l := range topo.Links {
		if l.WAN.Delay > 0 {
			parts = append(parts, fmt.Sprintf("WAN %s–%s %s each way", l.A.Node, l.B.Node, l.WAN.Delay))
		}
	}
	return strings.Join(parts, "; ")
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
	if err := daemon.Purge(context.Background(), d.cfg); err != nil {
		fmt.Fprintln(d.out, "cleanup:", err)
	}
	if d.labs != nil {
		if err := d.labs.Destroy(context.Background(), d.labName); err != nil {
			fmt.Fprintln(d.out, "cleanup:", err)
		}
	}
}

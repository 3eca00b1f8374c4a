package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stitchnfv/stitch/lab"
)

// defaultLabStateDir is where deployed labs are recorded; a lab is
// deployed while its directory exists.
const defaultLabStateDir = "/var/lib/stitch/labs"

// labCmd runs labs on this host with package lab. Unlike the other
// commands it never talks to the orchestrator: a lab is the machines and
// WAN links an orchestrator runs on, so it must exist first.
func (a *app) labCmd() *cobra.Command {
	cmd := groupCmd("lab", "Deploy, inspect and destroy a containerlab topology on this host (root; no orchestrator)")
	cmd.Long = `Deploy, inspect and destroy a lab described by a containerlab topology file
(*.clab.yml) on this host. Where the containerlab binary and a working
container engine are present, the file is handed to containerlab (--engine
auto, the default, or containerlab). Elsewhere (--engine netns, or auto
without them, as on CI) linux nodes become network namespaces, links veth
pairs, and WAN links with delay, jitter or loss get a stitch-wanrelay (found
next to stitchctl or on PATH). These commands need root and do not talk to
the orchestrator; --server is ignored.`
	var stateDir string
	cmd.PersistentFlags().StringVar(&stateDir, "state-dir", defaultLabStateDir, "where deployed labs are recorded")
	runner := func() *lab.Runner {
		// Warnings only: -o json|yaml output must stay parseable, and the
		// result says what was built.
		log := slog.New(slog.NewTextHandler(a.errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
		return lab.NewRunner(stateDir, log)
	}

	var envs []string
	var relay string
	var allowUnapplied bool
	var engine string
	deploy := &cobra.Command{
		Use:   "deploy FILE",
		Short: "Deploy the lab a topology file describes",
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			if engine != "auto" && engine != "containerlab" && engine != "netns" {
				return usagef("--engine %q: want auto, containerlab or netns", engine)
			}
			env, err := labEnv(envs)
			if err != nil {
				return err
			}
			topo, err := lab.ParseFile(args[0], env)
			if err != nil {
				return labProblems(err)
			}
			if err := needRoot(); err != nil {
				return err
			}
			opts := lab.DeployOptions{RelayCommand: relay, NoRelay: relay == "none", AllowUnappliedImpairments: allowUnapplied,
				UseContainerlab: engine == "containerlab", NoContainerlab: engine == "netns"}
			if opts.NoRelay {
				opts.RelayCommand = ""
			}
			l, err := runner().Deploy(cmd.Context(), topo, opts)
			switch {
			case errors.Is(err, lab.ErrAlreadyDeployed):
				return fmt.Errorf("lab %s is already deployed (state in %s): destroy it first with 'stitchctl lab destroy %s'", topo.Name, stateDir, topo.Name)
			case err != nil:
				return labProblems(err)
			}
			for _, w := range l.Warnings {
				fmt.Fprintf(a.errOut, "Warning: %s\n", w)
			}
			a.info("Lab %s deployed.", l.Name)
			return a.print(newLabView(l), func(w io.Writer) { labTable(w, l) })
		}),
	}
	f := deploy.Flags()
	f.StringArrayVar(&envs, "env", nil, "K=V substituted for ${K} in the file, over the environment (repeatable)")
	f.StringVar(&relay, "relay", "", "stitch-wanrelay binary (default: next to stitchctl, then on PATH); none: use tc netem")
	f.BoolVar(&allowUnapplied, "allow-unapplied", false, "deploy even if WAN delay/jitter/loss cannot be applied (no relay, no netem)")
	f.StringVar(&engine, "engine", "auto", "who realises the lab: auto (containerlab where present), containerlab, or netns")

	inspect := &cobra.Command{
		Use:   "inspect NAME",
		Short: "Show a deployed lab's nodes, namespaces, interfaces, addresses and links",
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			if err := needRoot(); err != nil {
				return err
			}
			l, err := runner().Inspect(cmd.Context(), args[0])
			if err != nil {
				return notDeployed(err, args[0], stateDir)
			}
			return a.print(newLabView(l), func(w io.Writer) { labTable(w, l) })
		}),
	}
	destroy := &cobra.Command{
		Use:   "destroy NAME",
		Short: "End a lab's processes and relays and delete its namespaces and state",
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			if err := needRoot(); err != nil {
				return err
			}
			if err := runner().Destroy(cmd.Context(), args[0]); err != nil {
				return notDeployed(err, args[0], stateDir)
			}
			a.info("Lab %s destroyed.", args[0])
			return nil
		}),
	}
	repair := &cobra.Command{
		Use:   "repair NAME",
		Short: "Restart the WAN relays of a lab that no longer run",
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			if err := needRoot(); err != nil {
				return err
			}
			restarted, err := runner().Repair(cmd.Context(), args[0])
			if err != nil {
				return notDeployed(err, args[0], stateDir)
			}
			if len(restarted) == 0 {
				a.info("Lab %s: every relay runs.", args[0])
			}
			for _, l := range restarted {
				a.info("Lab %s: relay of %s restarted.", args[0], l)
			}
			return nil
		}),
	}
	cmd.AddCommand(deploy, inspect, destroy, repair)
	return cmd
}

func needRoot() error {
	if os.Geteuid() != 0 {
		return errors.New("lab commands need root (network namespaces, veth pairs)")
	}
	return nil
}

// labEnv is the environment substituted into a topology file: the
// process's, overlaid with --env.
func labEnv(kvs []string) (map[string]string, error) {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("invalid --env %q: want K=V", kv)
		}
		env[k] = v
	}
	return env, nil
}

func notDeployed(err error, name, stateDir string) error {
	if errors.Is(err, lab.ErrNotDeployed) {
		return fmt.Errorf("lab %s is not deployed (nothing under %s)", name, stateDir)
	}
	return err
}

// problemsError prints a topology's problems one per line, as printError
// does for the API's field problems.
type problemsError struct {
	err  error
	list []lab.Problem
}

func (e *problemsError) Error() string {
	var b strings.Builder
	msg := e.err.Error()
	// The wrapped message runs the problems together after ": ".
	if i := strings.Index(msg, ": "+e.list[0].String()); i >= 0 {
		msg = msg[:i]
	}
	b.WriteString(msg)
	for _, p := range e.list {
		fmt.Fprintf(&b, "\n  %s", p)
	}
	return b.String()
}

func (e *problemsError) Unwrap() error { return e.err }

// labProblems lists a validation error's problems a line each.
func labProblems(err error) error {
	if ve, ok := errors.AsType[*lab.ValidationError](err); ok && len(ve.Problems) > 0 {
		return &problemsError{err: err, list: ve.Problems}
	}
	return err
}

// labTable prints a lab for people.
func labTable(w io.Writer, l *lab.Lab) {
	field(w, "Lab", l.Name)
	field(w, "Complete", yesNo(l.Complete))
	fmt.Fprintln(w)
	row(w, "NODE", "KIND", "SITE", "NETNS", "PID", "INTERFACES")
	for _, n := range l.Nodes {
		var ifs []string
		for _, i := range n.Interfaces {
			s := i.Name
			if !i.Up {
				s += "(down)"
			}
			for _, p := range i.Addrs {
				s += " " + p.String()
			}
			ifs = append(ifs, s)
		}
		row(w, n.Name, n.Kind, n.Site, n.NetNS, fmtInt(n.PID), strings.Join(ifs, ", "))
	}
	if len(l.Links) == 0 {
		return
	}
	fmt.Fprintln(w)
	row(w, "LINK", "DELAY", "JITTER", "LOSS", "RATE", "APPLIED", "VIA")
	for _, k := range l.Links {
		applied := ""
		if !k.WAN.IsZero() {
			applied = yesNo(k.Applied)
		}
		via := "veth"
		if k.Relay != nil {
			via = fmt.Sprintf("relay pid %d in %s", k.Relay.PID, k.Relay.NetNS)
			if !k.Relay.Running {
				via += " (not running)"
			}
		}
		row(w, k.A+"--"+k.B, fmtDur(k.WAN.Delay.String(), k.WAN.Delay != 0), fmtDur(k.WAN.Jitter.String(), k.WAN.Jitter != 0),
			fmtLoss(k.WAN.LossPercent), fmtRate(k.WAN.RateBits), applied, via)
	}
	for _, m := range l.Warnings {
		fmt.Fprintf(w, "\nWarning: %s\n", m)
	}
}

func fmtDur(s string, set bool) string {
	if !set {
		return ""
	}
	return s
}

func fmtLoss(p float64) string {
	if p == 0 {
		return ""
	}
	return strconv.FormatFloat(p, 'f', -1, 64) + "%"
}

// fmtRate prints bits per second in the labels' syntax ("100mbit").
func fmtRate(bits uint64) string {
	switch {
	case bits == 0:
		return ""
	case bits%1e9 == 0:
		return fmt.Sprintf("%dgbit", bits/1e9)
	case bits%1e6 == 0:
		return fmt.Sprintf("%dmbit", bits/1e6)
	case bits%1e3 == 0:
		return fmt.Sprintf("%dkbit", bits/1e3)
	}
	return fmt.Sprintf("%dbit", bits)
}

// labView is a lab as -o json|yaml print it: snake_case keys like the
// API's objects, durations and rates in the labels' syntax.
type labView struct {
	Name     string        `json:"name"`
	Complete bool          `json:"complete"`
	Nodes    []labNodeView `json:"nodes"`
	Links    []labLinkView `json:"links,omitempty"`
	Warnings []string      `json:"warnings,omitempty"`
}

type labNodeView struct {
	Name       string         `json:"name"`
	Kind       string         `json:"kind"`
	Site       string         `json:"site,omitempty"`
	NetNS      string         `json:"netns"`
	PID        int            `json:"pid,omitempty"`
	Log        string         `json:"log,omitempty"`
	Interfaces []labIfaceView `json:"interfaces"`
}

type labIfaceView struct {
	Name  string   `json:"name"`
	MAC   string   `json:"mac,omitempty"`
	MTU   int      `json:"mtu"`
	Up    bool     `json:"up"`
	Addrs []string `json:"addresses,omitempty"`
}

type labLinkView struct {
	A       string        `json:"a"`
	B       string        `json:"b"`
	Delay   string        `json:"delay,omitempty"`
	Jitter  string        `json:"jitter,omitempty"`
	Loss    string        `json:"loss,omitempty"`
	Rate    string        `json:"rate,omitempty"`
	Applied bool          `json:"applied"`
	Relay   *labRelayView `json:"relay,omitempty"`
}

type labRelayView struct {
	NetNS   string `json:"netns"`
	PID     int    `json:"pid"`
	Running bool   `json:"running"`
	Log     string `json:"log,omitempty"`
}

func newLabView(l *lab.Lab) labView {
	v := labView{Name: l.Name, Complete: l.Complete, Warnings: l.Warnings, Nodes: []labNodeView{}}
	for _, n := range l.Nodes {
		nv := labNodeView{Name: n.Name, Kind: n.Kind, Site: n.Site, NetNS: n.NetNS, PID: n.PID, Log: n.Log, Interfaces: []labIfaceView{}}
		for _, i := range n.Interfaces {
			iv := labIfaceView{Name: i.Name, MAC: i.MAC, MTU: i.MTU, Up: i.Up}
			for _, p := range i.Addrs {
				iv.Addrs = append(iv.Addrs, p.String())
			}
			nv.Interfaces = append(nv.Interfaces, iv)
		}
		v.Nodes = append(v.Nodes, nv)
	}
	for _, k := range l.Links {
		lv := labLinkView{A: k.A, B: k.B, Loss: fmtLoss(k.WAN.LossPercent), Rate: fmtRate(k.WAN.RateBits), Applied: k.Applied,
			Delay: fmtDur(k.WAN.Delay.String(), k.WAN.Delay != 0), Jitter: fmtDur(k.WAN.Jitter.String(), k.WAN.Jitter != 0)}
		if r := k.Relay; r != nil {
			lv.Relay = &labRelayView{NetNS: r.NetNS, PID: r.PID, Running: r.Running, Log: r.Log}
		}
		v.Links = append(v.Links, lv)
	}
	return v
}

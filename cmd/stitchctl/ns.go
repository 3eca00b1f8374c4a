package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stitchnfv/stitch/descriptors"
	"github.com/stitchnfv/stitch/nfvo"
)

func (a *app) nsCmd() *cobra.Command {
	cmd := groupCmd("ns", "Manage network service instances and run their lifecycle", "nsi")
	cmd.AddCommand(a.nsCreateCmd(), a.nsListCmd(), a.nsShowCmd(), a.nsInstantiateCmd(), a.nsScaleCmd(),
		a.nsHealCmd(), a.nsTerminateCmd(), a.nsDeleteCmd(), a.nsSlotsCmd(), a.nsRoutersCmd(), a.nsPoliciesCmd(), a.nsPolicySetCmd(), a.nsTelemetryCmd())
	return cmd
}

func nsTable(list ...nfvo.NsInstance) func(io.Writer) {
	return func(w io.Writer) {
		row(w, "ID", "NAME", "NSD", "STATE", "STATUS", "VNFCS", "OPERATION", "CREATED")
		for _, ns := range list {
			// Listings come without VNFCs (they are read per instance).
			vnfcs := "-"
			if ns.Vnfcs != nil {
				vnfcs = fmt.Sprint(len(ns.Vnfcs))
			}
			row(w, ns.ID, ns.Name, ns.NsdID+":"+ns.NsdVersion, string(ns.State), ns.Status,
				vnfcs, ns.CurrentOp, fmtTime(ns.CreatedAt))
		}
	}
}

func (a *app) nsCreateCmd() *cobra.Command {
	var req nfvo.CreateNsRequest
	cmd := &cobra.Command{
		Use:   "create --nsd ID[:VERSION] --name NAME",
		Short: "Create an NS instance (NOT_INSTANTIATED) from an NSD",
		Args:  cobra.NoArgs,
		RunE: action(func(cmd *cobra.Command, _ []string) error {
			// --nsd takes the catalog's "<id>:<version>" form too.
			req.NsdID, req.NsdVersion, _ = strings.Cut(req.NsdID, ":")
			ns, err := a.client.CreateNS(cmd.Context(), req)
			if err != nil {
				return err
			}
			return a.print(ns, nsTable(ns))
		}),
	}
	cmd.Flags().StringVar(&req.NsdID, "nsd", "", "NSD id, optionally with :version (default: the latest version)")
	cmd.Flags().StringVar(&req.Name, "name", "", "name of the NS instance")
	cmd.Flags().StringVar(&req.Description, "description", "", "free-text description")
	_ = cmd.MarkFlagRequired("nsd")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func (a *app) nsListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List NS instances",
		Args:  cobra.NoArgs,
		RunE: action(func(cmd *cobra.Command, _ []string) error {
			list, err := a.client.ListNS(cmd.Context())
			if err != nil {
				return err
			}
			return a.print(nonNil(list), nsTable(list...))
		}),
	}
}

func (a *app) nsShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show an NS instance and its VNFCs, with where each was placed and why",
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			ns, err := a.client.GetNS(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.print(ns, func(w io.Writer) { nsDetail(w, ns) })
		}),
	}
}

func (a *app) nsSlotsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "slots ID",
		Short: "Show the latest session-slot reports of an NS instance's instances, with their age",
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			reports, err := a.client.SlotReports(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.print(reports, func(w io.Writer) {
				row(w, "VNFC", "PROFILE", "SITE", "MAX", "AVAILABLE", "IN USE", "AGE", "ERROR")
				for _, r := range reports {
					age := "-"
					if !r.ReportedAt.IsZero() {
						age = fmt.Sprintf("%.0fms", r.AgeMs)
					}
					row(w, r.VnfcID, r.VnfProfileID, r.Site, fmt.Sprint(r.Max), fmt.Sprint(r.Available), fmt.Sprint(r.InUse), age, r.Error)
				}
			})
		}),
	}
}

func (a *app) nsPoliciesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "policies ID",
		Short: "Show an NS instance's scaling policies as they stand: parameters, the metric now, and what the autoscaler will do",
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			policies, err := a.client.ScalingPolicies(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.print(policies, func(w io.Writer) {
				row(w, "POLICY", "PROFILE", "METRIC", "BOUNDS", "VALUE", "INSTANCES", "HOLD", "COOLDOWN", "CHANGED", "VERDICT")
				for _, p := range policies {
					bounds := fmt.Sprintf("%s %g", p.Comparison, p.Threshold)
					if p.Band != nil {
						bounds = fmt.Sprintf("[%g, %g]", p.Band.Low, p.Band.High)
					}
					value := "-"
					if p.Value != nil {
						value = fmt.Sprintf("%.3g", *p.Value)
					}
					inst := fmt.Sprintf("%d (%d..%s)", p.Instances, p.MinInstances, fmtInt(p.MaxInstances))
					row(w, p.ID, p.VnfProfileID, p.Metric, bounds, value, inst, p.Duration.Std().String(), p.Cooldown.Std().String(),
						strings.Join(p.Overridden, ","), p.Verdict)
				}
			})
		}),
	}
}

func (a *app) nsPolicySetCmd() *cobra.Command {
	var (
		threshold, low, high float64
		duration, cooldown   time.Duration
		minN, maxN           int
	)
	cmd := &cobra.Command{
		Use:   "policy-set ID POLICY",
		Short: "Change a scaling policy of a running NS instance (threshold, band, duration, cooldown, bounds) without redeploying it",
		Args:  cobra.ExactArgs(2),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			var upd nfvo.PolicyUpdate
			fl := cmd.Flags()
			if fl.Changed("threshold") {
				upd.Threshold = &threshold
			}
			if fl.Changed("band-low") != fl.Changed("band-high") {
				return usagef("give --band-low and --band-high together")
			}
			if fl.Changed("band-low") {
				upd.Band = &descriptors.Band{Low: low, High: high}
			}
			if fl.Changed("duration") {
				d := descriptors.Duration(duration)
				upd.Duration = &d
			}
			if fl.Changed("cooldown") {
				d := descriptors.Duration(cooldown)
				upd.Cooldown = &d
			}
			if fl.Changed("min") {
				upd.MinInstances = &minN
			}
			if fl.Changed("max") {
				upd.MaxInstances = &maxN
			}
			if upd == (nfvo.PolicyUpdate{}) {
				return usagef("nothing to change: give at least one of --threshold, --band-low/--band-high, --duration, --cooldown, --min, --max")
			}
			st, err := a.client.UpdatePolicy(cmd.Context(), args[0], args[1], upd)
			if err != nil {
				return err
			}
			return a.print(st, func(w io.Writer) {
				field(w, "Policy", st.ID)
				field(w, "Changed", strings.Join(st.Overridden, ", "))
				field(w, "Verdict", st.Verdict)
			})
		}),
	}
	f := cmd.Flags()
	f.Float64Var(&threshold, "threshold", 0, "threshold of a gt/lt policy")
	f.Float64Var(&low, "band-low", 0, "low end of a free-slots-ratio band (with --band-high)")
	f.Float64Var(&high, "band-high", 0, "high end of a free-slots-ratio band (with --band-low)")
	f.DurationVar(&duration, "duration", 0, "how long the condition must hold")
	f.DurationVar(&cooldown, "cooldown", 0, "time after a scale operation before the policy acts again")
	f.IntVar(&minN, "min", 0, "fewest instances")
	f.IntVar(&maxN, "max", 0, "most instances (0: the descriptor's bounds)")
	return cmd
}

func (a *app) nsTelemetryCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "telemetry ID",
		Short: "Show what stitch collects over gNMI from an NS instance's instances: connection, oper-status, last message, metrics",
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			reports, err := a.client.TelemetryReports(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.print(reports, func(w io.Writer) {
				row(w, "INSTANCE", "PROFILE", "CONNECTED", "STATUS", "LAST HEARD", "METRICS", "ERROR")
				for _, r := range reports {
					heard := "-"
					if !r.LastHeard.IsZero() {
						heard = r.LastHeard.Format(time.RFC3339)
					}
					var metrics []string
					for _, v := range r.Values {
						name := v.Path
						if len(v.IDs) > 0 {
							name = strings.Join(v.IDs, ",")
						}
						metrics = append(metrics, fmt.Sprintf("%s=%g", name, v.Value))
					}
					row(w, r.Instance, r.Profile, fmt.Sprint(r.Connected), r.OperStatus, heard, strings.Join(metrics, " "), r.LastError)
				}
			})
		}),
	}
}

func (a *app) nsRoutersCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "routers ID",
		Short: "Show what an NS instance's service routers serve: each instance's share of new sessions, its slot estimate and counters",
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			routers, err := a.client.Routers(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.print(routers, func(w io.Writer) { routerTable(w, routers) })
		}),
	}
}

// routerTable prints one row per service and instance: the share of new
// sessions the router gives it and why (the weight from its free slots
// after headroom), and what it got.
func routerTable(w io.Writer, routers []nfvo.RouterView) {
	row(w, "ROUTER", "SERVICE", "INSTANCE", "SHARE", "FREE", "WEIGHT", "AGE", "SESSIONS", "NEW/S", "REFUSED", "STATE")
	for _, r := range routers {
		if r.Error != "" {
			row(w, r.VnfcID, "-", "-", "-", "-", "-", "-", "-", "-", "-", "unreachable: "+r.Error)
		}
		for _, s := range r.Services {
			svc := fmt.Sprintf("%s (%s:%d/%s)", s.Name, s.VIP, s.Port, s.Protocol)
			for _, in := range s.Instances {
				state := "serving"
				if in.Draining {
					state = "draining"
				}
				row(w, r.VnfcID, svc, in.ID, fmt.Sprintf("%.1f%%", in.Share), fmt.Sprint(in.Estimate.Free),
					fmt.Sprint(in.Estimate.Weight), fmt.Sprintf("%.0fms", 1000*in.Estimate.AgeSeconds),
					fmt.Sprint(in.Counters.NewSessions), fmt.Sprintf("%.1f", in.Estimate.SendRate), "-", state)
			}
			if o := s.Overflow; o != nil {
				row(w, r.VnfcID, svc, o.ID, "-", "-", "-", "-", fmt.Sprint(o.Counters.NewSessions), "-", "-", "overflow")
			}
			row(w, r.VnfcID, svc, "(all)", "100%", "-", "-", "-", fmt.Sprint(s.Counters.NewSessions), "-", fmt.Sprint(s.Counters.Refused), "")
		}
	}
}

// nsDetail prints the instance, then one row per VNFC. The placement
// reason comes last: it is free text, the answer to "why did it go there".
func nsDetail(w io.Writer, ns nfvo.NsInstance) {
	field(w, "ID", ns.ID)
	field(w, "Name", ns.Name)
	field(w, "Description", ns.Description)
	field(w, "NSD", ns.NsdID+":"+ns.NsdVersion)
	field(w, "VNFDs", fmtMap(ns.VnfdVersions))
	field(w, "Flavour", ns.FlavourID)
	field(w, "State", string(ns.State))
	field(w, "Status", ns.Status)
	field(w, "Operation", ns.CurrentOp)
	desired := "not instantiated"
	if ns.Desired.Instantiated {
		desired = "instantiated"
	}
	if len(ns.Desired.Replicas) > 0 {
		desired += "; replicas " + fmtMap(ns.Desired.Replicas)
	}
	if len(ns.Desired.Replace) > 0 {
		desired += "; replacing " + strings.Join(ns.Desired.Replace, ", ")
	}
	field(w, "Desired", fmt.Sprintf("%s (generation %d)", desired, ns.Desired.Generation))
	field(w, "Created", fmtTime(ns.CreatedAt))
	field(w, "Updated", fmtTime(ns.UpdatedAt))
	if len(ns.Vnfcs) == 0 {
		return
	}
	fmt.Fprintln(w)
	row(w, "VNFC", "PROFILE", "VDU", "SITE", "STATE", "ADDRESSES", "SLOTS", "PLACEMENT")
	var failed []nfvo.Vnfc
	for _, v := range ns.Vnfcs {
		row(w, v.ID, v.Profile, v.VDU, v.Site, string(v.State), fmtMap(v.Addresses), fmtInt(v.Slots), v.Placement)
		if v.LastError != "" {
			failed = append(failed, v)
		}
	}
	for _, v := range failed {
		fmt.Fprintf(w, "\n%s: last error: %s", v.ID, v.LastError)
		if v.LogPath != "" {
			fmt.Fprintf(w, " (log: %s)", v.LogPath)
		}
		fmt.Fprintln(w)
	}
}

func (a *app) nsInstantiateCmd() *cobra.Command {
	var (
		req   nfvo.InstantiateRequest
		watch bool
	)
	cmd := &cobra.Command{
		Use:   "instantiate ID",
		Short: "Instantiate an NS instance",
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			op, err := a.client.Instantiate(cmd.Context(), args[0], req)
			return a.accepted(cmd, op, err, watch, nfvo.OpCompleted)
		}),
	}
	cmd.Flags().StringVar(&req.FlavourID, "flavour", "", "deployment flavour (default: the NSD's default)")
	addWatchFlag(cmd, &watch)
	return cmd
}

func (a *app) nsScaleCmd() *cobra.Command {
	var (
		data    nfvo.ScaleVnfData
		out, in bool
		watch   bool
	)
	cmd := &cobra.Command{
		Use:   "scale ID --profile P --aspect A --out|--in",
		Short: "Scale one constituent VNF of an NS instance out or in",
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			if data.NumberOfSteps < 1 {
				return usagef("invalid --steps %d: must be at least 1", data.NumberOfSteps)
			}
			data.ScaleVnfType = "SCALE_OUT"
			if in {
				data.ScaleVnfType = "SCALE_IN"
			}
			op, err := a.client.Scale(cmd.Context(), args[0], nfvo.ScaleRequest{ScaleType: "SCALE_VNF", ScaleVnfData: data})
			return a.accepted(cmd, op, err, watch, nfvo.OpCompleted)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&data.VnfProfileID, "profile", "", "VNF profile (constituent) to scale")
	f.StringVar(&data.AspectID, "aspect", "", "scaling aspect")
	f.BoolVar(&out, "out", false, "add instances")
	f.BoolVar(&in, "in", false, "remove instances (idle ones first)")
	f.IntVar(&data.NumberOfSteps, "steps", 1, "scaling steps")
	_ = cmd.MarkFlagRequired("profile")
	_ = cmd.MarkFlagRequired("aspect")
	cmd.MarkFlagsOneRequired("out", "in")
	cmd.MarkFlagsMutuallyExclusive("out", "in")
	addWatchFlag(cmd, &watch)
	return cmd
}

func (a *app) nsHealCmd() *cobra.Command {
	var (
		req   nfvo.HealRequest
		watch bool
	)
	cmd := &cobra.Command{
		Use:   "heal ID [--profile P] [--vnfc ID...]",
		Short: "Replace VNFCs: the named ones, a profile's failed ones, or every failed one",
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			op, err := a.client.Heal(cmd.Context(), args[0], req)
			return a.accepted(cmd, op, err, watch, nfvo.OpCompleted)
		}),
	}
	cmd.Flags().StringVar(&req.VnfProfileID, "profile", "", "heal this VNF profile's failed instances")
	cmd.Flags().StringSliceVar(&req.VnfcIDs, "vnfc", nil, "replace this VNFC (repeatable, or comma-separated)")
	cmd.Flags().StringVar(&req.Cause, "cause", "", "why, for the operation's record")
	addWatchFlag(cmd, &watch)
	return cmd
}

func (a *app) nsTerminateCmd() *cobra.Command {
	var (
		req      nfvo.TerminateRequest
		graceful time.Duration
		watch    bool
	)
	cmd := &cobra.Command{
		Use:   "terminate ID",
		Short: "Terminate an NS instance",
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			if graceful < 0 {
				return usagef("invalid --graceful-timeout %v: must not be negative", graceful)
			}
			// The API counts whole seconds; round up so 500ms still waits.
			req.GracefulTerminationTimeout = int(math.Ceil(graceful.Seconds()))
			op, err := a.client.Terminate(cmd.Context(), args[0], req)
			return a.accepted(cmd, op, err, watch, nfvo.OpCompleted)
		}),
	}
	cmd.Flags().BoolVar(&req.Force, "force", false, "terminate even while another operation runs")
	cmd.Flags().DurationVar(&graceful, "graceful-timeout", 0, "time instances get to stop before they are killed (default: the server's)")
	addWatchFlag(cmd, &watch)
	return cmd
}

func (a *app) nsDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete an NS instance that is not instantiated",
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			if err := a.client.DeleteNS(cmd.Context(), args[0]); err != nil {
				return err
			}
			a.info("NS instance %s deleted", args[0])
			return nil
		}),
	}
}

package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/stitchnfv/stitch/nfvo"
)

func (a *app) opCmd() *cobra.Command {
	cmd := groupCmd("op", "Inspect and decide on LCM operation occurrences", "ops")
	cmd.AddCommand(a.opListCmd(), a.opShowCmd(), a.opWatchCmd(),
		a.opDecisionCmd("retry", "Retry an operation in FAILED_TEMP", func(ctx context.Context, id string) (nfvo.LcmOpOcc, error) {
			return a.client.RetryOp(ctx, id)
		}, nfvo.OpCompleted),
		a.opDecisionCmd("rollback", "Roll back an operation in FAILED_TEMP", func(ctx context.Context, id string) (nfvo.LcmOpOcc, error) {
			return a.client.RollbackOp(ctx, id)
		}, nfvo.OpRolledBack),
		a.opDecisionCmd("fail", "Give up on an operation in FAILED_TEMP (it becomes FAILED)", func(ctx context.Context, id string) (nfvo.LcmOpOcc, error) {
			return a.client.FailOp(ctx, id)
		}, nfvo.OpFailed),
	)
	return cmd
}

func (a *app) opListCmd() *cobra.Command {
	var nsID string
	cmd := &cobra.Command{
		Use:   "list [--ns ID]",
		Short: "List operation occurrences, oldest first",
		Args:  cobra.NoArgs,
		RunE: action(func(cmd *cobra.Command, _ []string) error {
			ops, err := a.client.ListOps(cmd.Context(), nsID)
			if err != nil {
				return err
			}
			return a.print(nonNil(ops), func(w io.Writer) {
				row(w, "ID", "NS", "TYPE", "STATE", "STARTED", "STATE ENTERED", "AUTO", "ERROR")
				for _, op := range ops {
					var detail string
					if op.Error != nil {
						detail = op.Error.Detail
					}
					row(w, op.ID, op.NsInstanceID, string(op.LcmOperationType), string(op.OperationState),
						fmtTime(op.StartTime), fmtTime(op.StateEnteredTime), yesNo(op.IsAutomaticInvocation), detail)
				}
			})
		}),
	}
	cmd.Flags().StringVar(&nsID, "ns", "", "only the operations of this NS instance")
	return cmd
}

func (a *app) opShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show an operation occurrence and its steps",
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			op, err := a.client.GetOp(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.print(op, func(w io.Writer) { opDetail(w, op) })
		}),
	}
}

func opDetail(w io.Writer, op nfvo.LcmOpOcc) {
	field(w, "ID", op.ID)
	field(w, "NS instance", op.NsInstanceID)
	field(w, "Type", string(op.LcmOperationType))
	field(w, "State", string(op.OperationState))
	field(w, "Started", fmtTime(op.StartTime))
	field(w, "State entered", fmtTime(op.StateEnteredTime))
	field(w, "Automatic", yesNo(op.IsAutomaticInvocation))
	field(w, "Reason", op.Reason)
	field(w, "Parameters", string(op.OperationParams))
	if op.Error != nil {
		field(w, "Error", op.Error.Detail)
	}
	if op.Stats != nil {
		field(w, "Duration", fmtStats(op.Stats))
	}
	if len(op.Steps) == 0 {
		return
	}
	fmt.Fprintln(w)
	row(w, "AT", "STEP")
	for _, s := range op.Steps {
		row(w, fmtTime(s.At), s.Message)
	}
}

func (a *app) opWatchCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "watch ID",
		Short: "Follow an operation until it ends or waits in FAILED_TEMP",
		Long: `Follow an operation until it ends or waits in FAILED_TEMP. Exits 0 if it
COMPLETED (or, for one already rolling back, ROLLED_BACK), 1 otherwise.`,
		Args: cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			op, err := a.client.GetOp(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			want := nfvo.OpCompleted
			if op.OperationState == nfvo.OpRollingBack || op.OperationState == nfvo.OpRolledBack {
				want = nfvo.OpRolledBack // the operator already chose to roll back
			}
			return a.watch(cmd.Context(), op, want)
		}),
	}
}

// opDecisionCmd is retry, rollback or fail; want is the state that means
// the decision was carried out.
func (a *app) opDecisionCmd(name, short string, decide func(context.Context, string) (nfvo.LcmOpOcc, error), want nfvo.OpState) *cobra.Command {
	var watch bool
	cmd := &cobra.Command{
		Use:   name + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			op, err := decide(cmd.Context(), args[0])
			return a.accepted(cmd, op, err, watch, want)
		}),
	}
	addWatchFlag(cmd, &watch)
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

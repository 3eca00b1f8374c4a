package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/stitchnfv/stitch/nfvo"
	"github.com/stitchnfv/stitch/nfvo/api"
)

// maxPollFailures is how many polls in a row may fail (connection reset,
// server restarting) before a watch gives up.
const maxPollFailures = 5

func addWatchFlag(cmd *cobra.Command, watch *bool) {
	cmd.Flags().BoolVarP(watch, "watch", "w", false, "follow the operation until it ends")
}

// accepted reports an operation the API accepted, and follows it if asked
// to; want is the state that counts as success.
func (a *app) accepted(cmd *cobra.Command, op nfvo.LcmOpOcc, err error, watch bool, want nfvo.OpState) error {
	if err != nil {
		return err
	}
	if watch {
		return a.watch(cmd.Context(), op, want)
	}
	if a.output != "table" {
		return a.print(op, nil)
	}
	fmt.Fprintf(a.out, "Operation %s (%s of NS instance %s) accepted: %s\n",
		op.ID, op.LcmOperationType, op.NsInstanceID, op.OperationState)
	fmt.Fprintf(a.out, "Follow it with: stitchctl op watch %s\n", op.ID)
	return nil
}

// watch follows op until it ends or waits in FAILED_TEMP, printing each
// new step and state change, and then judges the outcome against want.
func (a *app) watch(ctx context.Context, op nfvo.LcmOpOcc, want nfvo.OpState) error {
	p := a.progress()
	final, err := a.follow(ctx, op, p)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(p, "Stopped watching; operation %s goes on. Follow it again with: stitchctl op watch %s\n", op.ID, op.ID)
		}
		return err
	}
	if a.output != "table" {
		if err := a.print(final, nil); err != nil {
			return err
		}
	}
	return verdict(p, final, want)
}

// done reports whether a watch stops at state: a final state, or
// FAILED_TEMP, which waits for the operator.
func done(s nfvo.OpState) bool { return s.Final() || s == nfvo.OpFailedTemp }

// follow polls the operation and prints its progress until done.
func (a *app) follow(ctx context.Context, op nfvo.LcmOpOcc, p io.Writer) (nfvo.LcmOpOcc, error) {
	line := func(at time.Time, state nfvo.OpState, msg string) {
		fmt.Fprintf(p, "%s  %-12s  %s\n", at.Local().Format("15:04:05.000"), state, msg)
	}
	line(op.StateEnteredTime, op.OperationState,
		fmt.Sprintf("%s %s of NS instance %s", op.ID, op.LcmOperationType, op.NsInstanceID))
	seen, last := 0, op.OperationState
	report := func(op nfvo.LcmOpOcc) {
		// Steps are appended; if a retry restarted the list, show it anew.
		if seen > len(op.Steps) {
			seen = 0
		}
		for _, s := range op.Steps[seen:] {
			state := s.State
			if state == "" { // a server that does not record it
				state = op.OperationState
			}
			line(s.At, state, s.Message)
		}
		seen = len(op.Steps)
		if op.OperationState != last {
			line(op.StateEnteredTime, op.OperationState, fmt.Sprintf("%s -> %s", last, op.OperationState))
			last = op.OperationState
		}
	}
	report(op)

	tick := time.NewTicker(a.pollInterval)
	defer tick.Stop()
	failures := 0
	for !done(op.OperationState) {
		select {
		case <-ctx.Done():
			return op, fmt.Errorf("watch operation %s: %w", op.ID, ctx.Err())
		case <-tick.C:
		}
		next, err := a.client.GetOp(ctx, op.ID)
		if err != nil {
			// An answer from the API (the operation is gone, access
			// denied) will not change; a transport error may.
			if _, isAPI := errors.AsType[*api.APIError](err); isAPI || ctx.Err() != nil {
				return op, fmt.Errorf("watch operation %s: %w", op.ID, err)
			}
			if failures++; failures >= maxPollFailures {
				return op, fmt.Errorf("watch operation %s: giving up after %d failed polls: %w", op.ID, failures, err)
			}
			fmt.Fprintf(a.errOut, "warning: polling %s: %v (retrying)\n", op.ID, err)
			continue
		}
		failures = 0
		op = next
		report(op)
	}
	return op, nil
}

// verdict says how a watched operation ended; anything but want is a
// failure (exit 1). FAILED_TEMP also says what the operator can do next.
func verdict(p io.Writer, op nfvo.LcmOpOcc, want nfvo.OpState) error {
	detail := ""
	if op.Error != nil {
		detail = op.Error.Detail
	}
	switch {
	case op.OperationState == want:
		if op.Stats != nil {
			fmt.Fprintf(p, "Operation %s %s in %s.\n", op.ID, op.OperationState, fmtStats(op.Stats))
		} else {
			fmt.Fprintf(p, "Operation %s %s.\n", op.ID, op.OperationState)
		}
		return nil
	case op.OperationState == nfvo.OpFailedTemp:
		fmt.Fprintf(p, "Operation %s is FAILED_TEMP: %s\n", op.ID, orNone(detail))
		fmt.Fprintf(p, "It holds NS instance %s until you decide:\n", op.NsInstanceID)
		fmt.Fprintf(p, "  retry:     stitchctl op retry %s --watch\n", op.ID)
		fmt.Fprintf(p, "  roll back: stitchctl op rollback %s --watch\n", op.ID)
		fmt.Fprintf(p, "  give up:   stitchctl op fail %s\n", op.ID)
		return fmt.Errorf("operation %s is FAILED_TEMP: %s", op.ID, orNone(detail))
	default:
		return fmt.Errorf("operation %s ended %s: %s", op.ID, op.OperationState, orNone(detail))
	}
}

func orNone(s string) string {
	if s == "" {
		return "no error reported"
	}
	return s
}

func fmtStats(s *nfvo.OpStats) string {
	if s == nil {
		return ""
	}
	ms := func(v float64) time.Duration {
		return time.Duration(v * float64(time.Millisecond)).Round(time.Millisecond)
	}
	return fmt.Sprintf("%v (VIM %v, programs starting %v, orchestrator %v)",
		ms(s.DurationMs), ms(s.VimMs), ms(s.InstanceWaitMs), ms(s.OverheadMs))
}

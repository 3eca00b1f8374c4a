package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stitchnfv/stitch/nfvo/api"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the API refused, or an operation did not succeed
	exitUsage  = 2 // the command line is wrong
)

const defaultServer = "http://127.0.0.1:8181"

// app is the state one invocation shares between its commands.
type app struct {
	out, errOut  io.Writer
	server       string
	output       string
	timeout      time.Duration
	pollInterval time.Duration
	client       *api.Client
}

// failure marks an error found while running a command (exit 1), as
// opposed to one cobra found in the command line (exit 2).
type failure struct{ err error }

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// usageError is a command-line mistake a command's own code found, such as
// two flags that contradict each other.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// run executes one command line and returns the process's exit code.
func run(ctx context.Context, args []string, out, errOut io.Writer) int {
	root := newRootCmd(out, errOut)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if _, ok := errors.AsType[*failure](err); ok {
		printError(errOut, err)
		return exitFailed
	}
	// Anything else came from parsing the command line: cobra's flag and
	// argument checks, or a usageError.
	fmt.Fprintf(errOut, "Error: %v\nRun '%s --help' for usage.\n", err, cmd.CommandPath())
	return exitUsage
}

// printError prints an error for the operator; an API error's field
// problems get a line each instead of being run together.
func printError(w io.Writer, err error) {
	msg := err.Error()
	apiErr, ok := errors.AsType[*api.APIError](err)
	if !ok || len(apiErr.Problem.Errors) == 0 {
		fmt.Fprintf(w, "Error: %s\n", msg)
		return
	}
	// APIError.Error ends with "; path: reason" per field problem.
	var suffix strings.Builder
	for _, fe := range apiErr.Problem.Errors {
		fmt.Fprintf(&suffix, "; %s: %s", fe.Path, fe.Reason)
	}
	fmt.Fprintf(w, "Error: %s\n", strings.TrimSuffix(msg, suffix.String()))
	for _, fe := range apiErr.Problem.Errors {
		fmt.Fprintf(w, "  %s: %s\n", fe.Path, fe.Reason)
	}
}

// newRootCmd builds the command tree, writing results to out and
// diagnostics (warnings, errors, progress of -o json|yaml watches) to errOut.
func newRootCmd(out, errOut io.Writer) *cobra.Command {
	a := &app{out: out, errOut: errOut, pollInterval: 200 * time.Millisecond}
	server := os.Getenv("STITCH_SERVER")
	if server == "" {
		server = defaultServer
	}
	root := &cobra.Command{
		Use:   "stitchctl",
		Short: "Operate a stitch NFV orchestrator",
		Long: `stitchctl onboards descriptors, creates network service instances and runs
their lifecycle operations (instantiate, scale, heal, terminate) on a stitch
orchestrator, over its REST API. Lifecycle operations run in the background;
--watch follows one until it ends.

Exit codes: 0 success, 1 the API refused or the operation failed, 2 usage error.`,
		Args:              cobra.NoArgs, // with RunE: an unknown command is a usage error, not help
		RunE:              func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		SilenceErrors:     true, // run prints errors, with the right exit code
		SilenceUsage:      true, // a failed operation is not a usage problem
		PersistentPreRunE: a.setup,
	}
	root.SetOut(out)
	root.SetErr(errOut)
	f := root.PersistentFlags()
	f.StringVar(&a.server, "server", server, "orchestrator API URL (default from $STITCH_SERVER)")
	f.StringVarP(&a.output, "output", "o", "table", "output format: table, json or yaml")
	f.DurationVar(&a.timeout, "timeout", 30*time.Second, "timeout of each API request (0: none)")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(outputFormats, cobra.ShellCompDirectiveNoFileComp))

	root.AddCommand(
		a.vnfdCmd(),
		a.nsdCmd(),
		a.nsCmd(),
		a.opCmd(),
		a.subscriptionCmd(),
		a.labCmd(),
		a.domainCmd(),
	)
	return root
}

var outputFormats = []string{"table", "json", "yaml"}

// setup checks the global flags and builds the API client.
func (a *app) setup(*cobra.Command, []string) error {
	if !slices.Contains(outputFormats, a.output) {
		return usagef("invalid output format %q: use table, json or yaml", a.output)
	}
	u, err := url.Parse(a.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("invalid --server %q: want a URL such as %s", a.server, defaultServer)
	}
	if a.timeout < 0 {
		return usagef("invalid --timeout %v: must not be negative", a.timeout)
	}
	a.client = &api.Client{BaseURL: a.server, HTTP: &http.Client{Timeout: a.timeout}}
	return nil
}

// action wraps a command's work, marking its errors as failures (exit 1)
// unless they are usage errors.
func action(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := fn(cmd, args)
		if err == nil {
			return nil
		}
		if _, ok := errors.AsType[*usageError](err); ok {
			return err
		}
		return &failure{err: err}
	}
}

// groupCmd is a command that only holds subcommands: run alone it prints
// its help; with an unknown subcommand it is a usage error. (Cobra would
// print help and succeed for an unknown subcommand of a command without
// RunE, hiding typos from scripts.)
func groupCmd(use, short string, aliases ...string) *cobra.Command {
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Aliases: aliases,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stitchnfv/stitch/nfvo"
)

// catalog describes one descriptor catalog (VNFDs or NSDs); the vnfd and
// nsd commands are the same shape over different types.
type catalog[T any] struct {
	name    string // command name
	title   string // in messages
	onboard func(context.Context, []byte) (T, error)
	list    func(context.Context) ([]T, error)
	get     func(context.Context, string) (T, error)
	del     func(context.Context, string) error
	id      func(T) string
	warns   func(T) []string
	header  []string
	cells   func(T) []string
	detail  func(io.Writer, T)
}

func (a *app) vnfdCmd() *cobra.Command {
	return catalogCmd(a, catalog[nfvo.VnfdInfo]{
		name:    "vnfd",
		title:   "VNFD",
		onboard: func(ctx context.Context, doc []byte) (nfvo.VnfdInfo, error) { return a.client.OnboardVNFD(ctx, doc) },
		list:    func(ctx context.Context) ([]nfvo.VnfdInfo, error) { return a.client.ListVNFDs(ctx) },
		get:     func(ctx context.Context, id string) (nfvo.VnfdInfo, error) { return a.client.GetVNFD(ctx, id) },
		del:     func(ctx context.Context, id string) error { return a.client.DeleteVNFD(ctx, id) },
		id:      func(v nfvo.VnfdInfo) string { return v.ID },
		warns:   func(v nfvo.VnfdInfo) []string { return v.Warnings },
		header:  []string{"ID", "VNFD", "VERSION", "KIND", "PROVIDER", "PRODUCT", "ONBOARDED"},
		cells: func(v nfvo.VnfdInfo) []string {
			return []string{v.ID, v.VnfdID, v.Version, v.Kind, v.Provider, v.ProductName, fmtTime(v.OnboardedAt)}
		},
		detail: func(w io.Writer, v nfvo.VnfdInfo) {
			field(w, "ID", v.ID)
			field(w, "VNFD", v.VnfdID)
			field(w, "Version", v.Version)
			field(w, "Kind", v.Kind)
			field(w, "Provider", v.Provider)
			field(w, "Product", v.ProductName)
			field(w, "Onboarded", fmtTime(v.OnboardedAt))
			field(w, "Warnings", strings.Join(v.Warnings, "; "))
		},
	})
}

func (a *app) nsdCmd() *cobra.Command {
	return catalogCmd(a, catalog[nfvo.NsdInfo]{
		name:    "nsd",
		title:   "NSD",
		onboard: func(ctx context.Context, doc []byte) (nfvo.NsdInfo, error) { return a.client.OnboardNSD(ctx, doc) },
		list:    func(ctx context.Context) ([]nfvo.NsdInfo, error) { return a.client.ListNSDs(ctx) },
		get:     func(ctx context.Context, id string) (nfvo.NsdInfo, error) { return a.client.GetNSD(ctx, id) },
		del:     func(ctx context.Context, id string) error { return a.client.DeleteNSD(ctx, id) },
		id:      func(v nfvo.NsdInfo) string { return v.ID },
		warns:   func(v nfvo.NsdInfo) []string { return v.Warnings },
		header:  []string{"ID", "NSD", "VERSION", "NAME", "VNFDS", "ONBOARDED"},
		cells: func(v nfvo.NsdInfo) []string {
			return []string{v.ID, v.NsdID, v.Version, v.Name, strings.Join(v.VnfdIDs, ","), fmtTime(v.OnboardedAt)}
		},
		detail: func(w io.Writer, v nfvo.NsdInfo) {
			field(w, "ID", v.ID)
			field(w, "NSD", v.NsdID)
			field(w, "Version", v.Version)
			field(w, "Name", v.Name)
			field(w, "VNFDs", strings.Join(v.VnfdIDs, ", "))
			field(w, "Onboarded", fmtTime(v.OnboardedAt))
			field(w, "Warnings", strings.Join(v.Warnings, "; "))
		},
	})
}

func catalogCmd[T any](a *app, c catalog[T]) *cobra.Command {
	cmd := groupCmd(c.name, "Manage the "+c.title+" catalog", c.name+"s")
	table := func(items ...T) func(io.Writer) {
		return func(w io.Writer) {
			row(w, c.header...)
			for _, it := range items {
				row(w, c.cells(it)...)
			}
		}
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "onboard FILE...",
			Short: "Onboard " + c.title + " documents (YAML or JSON; - reads stdin)",
			Long: "Onboard " + c.title + ` documents, each file on its own: a bad file is reported
and the others are still onboarded. Fields stitch does not use are printed
as warnings on stderr.`,
			Args: cobra.MinimumNArgs(1),
			RunE: action(func(cmd *cobra.Command, files []string) error {
				var done []T
				failed := 0
				for _, file := range files {
					info, err := onboardFile(cmd.Context(), cmd.InOrStdin(), file, c.onboard)
					if err != nil {
						failed++
						printError(a.errOut, fmt.Errorf("%s: %w", file, err))
						continue
					}
					for _, w := range c.warns(info) {
						fmt.Fprintf(a.errOut, "warning: %s: %s\n", file, w)
					}
					done = append(done, info)
				}
				if len(done) > 0 {
					if err := a.print(done, table(done...)); err != nil {
						return err
					}
				}
				if failed > 0 {
					return fmt.Errorf("%d of %d %s documents were not onboarded", failed, len(files), c.title)
				}
				return nil
			}),
		},
		&cobra.Command{
			Use:   "list",
			Short: "List onboarded " + c.title + " versions",
			Args:  cobra.NoArgs,
			RunE: action(func(cmd *cobra.Command, _ []string) error {
				items, err := c.list(cmd.Context())
				if err != nil {
					return err
				}
				return a.print(nonNil(items), table(items...))
			}),
		},
		&cobra.Command{
			Use:   "show ID[:VERSION]",
			Short: "Show a " + c.title + " (the latest version unless one is named)",
			Args:  cobra.ExactArgs(1),
			RunE: action(func(cmd *cobra.Command, args []string) error {
				info, err := c.get(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return a.print(info, func(w io.Writer) { c.detail(w, info) })
			}),
		},
		&cobra.Command{
			Use:   "delete ID[:VERSION]",
			Short: "Delete a " + c.title + " version that nothing uses",
			Args:  cobra.ExactArgs(1),
			RunE: action(func(cmd *cobra.Command, args []string) error {
				if err := c.del(cmd.Context(), args[0]); err != nil {
					return err
				}
				a.info("%s %s deleted", c.title, args[0])
				return nil
			}),
		},
	)
	return cmd
}

// onboardFile reads one descriptor file ("-" is stdin) and onboards it.
func onboardFile[T any](ctx context.Context, stdin io.Reader, file string, onboard func(context.Context, []byte) (T, error)) (T, error) {
	var (
		doc  []byte
		err  error
		zero T
	)
	if file == "-" {
		doc, err = io.ReadAll(stdin)
	} else {
		doc, err = os.ReadFile(file)
	}
	if err != nil {
		return zero, fmt.Errorf("read descriptor: %w", err)
	}
	if len(strings.TrimSpace(string(doc))) == 0 {
		return zero, errors.New("the file is empty")
	}
	return onboard(ctx, doc)
}

// nonNil makes an empty list print as [] in JSON, not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

package main

import (
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stitchnfv/stitch/nfvo"
)

func (a *app) subscriptionCmd() *cobra.Command {
	cmd := groupCmd("subscription", "Manage webhooks for operation notifications", "sub", "subscriptions")
	cmd.AddCommand(a.subscriptionCreateCmd(), a.subscriptionListCmd(), a.subscriptionShowCmd(), a.subscriptionDeleteCmd())
	return cmd
}

func subscriptionTable(subs ...nfvo.Subscription) func(io.Writer) {
	return func(w io.Writer) {
		row(w, "ID", "CALLBACK", "NS INSTANCES", "CREATED")
		for _, s := range subs {
			ns := strings.Join(s.NsInstanceIDs, ",")
			if ns == "" {
				ns = "(all)"
			}
			row(w, s.ID, s.CallbackURI, ns, fmtTime(s.CreatedAt))
		}
	}
}

func (a *app) subscriptionCreateCmd() *cobra.Command {
	var s nfvo.Subscription
	cmd := &cobra.Command{
		Use:   "create --callback URL [--ns ID]...",
		Short: "Subscribe a URL to operation notifications",
		Args:  cobra.NoArgs,
		RunE: action(func(cmd *cobra.Command, _ []string) error {
			sub, err := a.client.CreateSubscription(cmd.Context(), s)
			if err != nil {
				return err
			}
			return a.print(sub, subscriptionTable(sub))
		}),
	}
	cmd.Flags().StringVar(&s.CallbackURI, "callback", "", "URL the notifications are POSTed to")
	cmd.Flags().StringSliceVar(&s.NsInstanceIDs, "ns", nil, "only operations of this NS instance (repeatable; default: all)")
	_ = cmd.MarkFlagRequired("callback")
	return cmd
}

func (a *app) subscriptionListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List subscriptions",
		Args:  cobra.NoArgs,
		RunE: action(func(cmd *cobra.Command, _ []string) error {
			subs, err := a.client.ListSubscriptions(cmd.Context())
			if err != nil {
				return err
			}
			return a.print(nonNil(subs), subscriptionTable(subs...))
		}),
	}
}

func (a *app) subscriptionShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a subscription",
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			sub, err := a.client.GetSubscription(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.print(sub, subscriptionTable(sub))
		}),
	}
}

func (a *app) subscriptionDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a subscription",
		Args:  cobra.ExactArgs(1),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			if err := a.client.DeleteSubscription(cmd.Context(), args[0]); err != nil {
				return err
			}
			a.info("subscription %s deleted", args[0])
			return nil
		}),
	}
}

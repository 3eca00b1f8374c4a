package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// domainCmd shows inter-domain service routing: the neighbour domains and
// the best service routes.
func (a *app) domainCmd() *cobra.Command {
	cmd := groupCmd("domain", "Inspect inter-domain service routing (peer domains, service routes)")
	cmd.AddCommand(a.domainPeersCmd(), a.domainRoutesCmd())
	return cmd
}

func (a *app) domainPeersCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "peers",
		Short: "List the neighbour domains and their sessions",
		Args:  cobra.NoArgs,
		RunE: action(func(cmd *cobra.Command, _ []string) error {
			peers, err := a.client.InterDomainPeers(cmd.Context())
			if err != nil {
				return err
			}
			return a.print(nonNil(peers), func(w io.Writer) {
				row(w, "DOMAIN", "PEER ID", "STATE", "CONNECTED", "SINCE", "RECEIVED", "SENT", "STALE")
				for _, p := range peers {
					row(w, p.Domain, p.PeerID, p.State, yesNo(p.Connected), fmtTime(p.Since),
						fmt.Sprint(p.RoutesReceived), fmt.Sprint(p.RoutesSent), yesNo(p.Stale))
				}
			})
		}),
	}
}

func (a *app) domainRoutesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "routes",
		Short: "List each service's best route and why it won",
		Args:  cobra.NoArgs,
		RunE: action(func(cmd *cobra.Command, _ []string) error {
			routes, err := a.client.InterDomainRoutes(cmd.Context())
			if err != nil {
				return err
			}
			return a.print(nonNil(routes), func(w io.Writer) {
				row(w, "SERVICE", "ADDRESS", "ORIGIN", "PATH", "VIA", "SLOTS", "METRIC", "INGRESS", "REASON")
				for _, r := range routes {
					via := r.Peer
					if via == "" {
						via = "local"
					}
					if r.Stale {
						via += " (stale)"
					}
					row(w, r.Service, fmt.Sprintf("%s:%d/%s", r.Address, r.Port, r.Protocol), r.Origin,
						strings.Join(r.Path, " "), via, fmt.Sprint(r.Slots), fmt.Sprint(r.Metric), r.Ingress, r.Reason)
				}
			})
		}),
	}
}

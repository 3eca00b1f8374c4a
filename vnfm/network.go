package vnfm

import (
	"context"
	"fmt"
	"net"

	"github.com/stitchnfv/stitch/vim"
)

// Sites lists the VIM's execution zones with their capacity and usage.
func (m *Manager) Sites(ctx context.Context) ([]vim.Site, error) {
	return m.vim.Sites(ctx)
}

// EnsureNetwork creates an NS virtual link on the VIM (idempotently by name).
func (m *Manager) EnsureNetwork(ctx context.Context, spec vim.NetworkSpec) (vim.Network, error) {
	n, err := m.vim.EnsureNetwork(ctx, spec)
	if err != nil {
		return vim.Network{}, fmt.Errorf("vnfm: network %s: %w", spec.Name, err)
	}
	return n, nil
}

// DeleteNetworks removes every network of an NS instance.
func (m *Manager) DeleteNetworks(ctx context.Context, nsID string) error {
	nets, err := m.vim.ListNetworks(ctx, vim.Tags{vim.TagNSInstance: nsID})
	if err != nil {
		return fmt.Errorf("vnfm: list networks: %w", err)
	}
	for _, n := range nets {
		if err := m.vim.DeleteNetwork(ctx, n.ID); err != nil {
			return fmt.Errorf("vnfm: delete network %s: %w", n.Name, err)
		}
	}
	return nil
}

// Networks lists the VIM networks of an NS instance (all of stitch's when
// nsID is empty).
func (m *Manager) Networks(ctx context.Context, nsID string) ([]vim.Network, error) {
	sel := vim.Tags{}
	if nsID != "" {
		sel[vim.TagNSInstance] = nsID
	}
	return m.vim.ListNetworks(ctx, sel)
}

// Dial opens a connection from inside a site's data network (to an
// instance's management or control port).
func (m *Manager) Dial(ctx context.Context, site, network, address string) (net.Conn, error) {
	return m.vim.DialContext(ctx, site, network, address)
}

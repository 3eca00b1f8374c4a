package xdp

import (
	"context"
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

func vipKey(v VIP) (routerVipKey, error) {
	if !v.Addr.IsValid() {
		return routerVipKey{}, fmt.Errorf("VIP without address")
	}
	if v.Proto != TCP && v.Proto != UDP {
		return routerVipKey{}, fmt.Errorf("VIP %s: protocol %d is neither TCP nor UDP", v.Addr, v.Proto)
	}
	return routerVipKey{Addr: addrOf(v.Addr.Unmap()), Port: v.Port, Proto: uint8(v.Proto)}, nil
}

// SetVIP adds or replaces a VIP.
func (r *Router) SetVIP(ctx context.Context, v VIP, cfg VIPConfig) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k, err := vipKey(v)
	if err != nil {
		return fmt.Errorf("xdp: set VIP: %w", err)
	}
	if cfg.ID >= MaxVIPs {
		return fmt.Errorf("xdp: set VIP %s: id %d out of range", v.Addr, cfg.ID)
	}
	if cfg.Fallback != NoBackend && cfg.Fallback >= MaxBackends {
		return fmt.Errorf("xdp: set VIP %s: fallback %d out of range", v.Addr, cfg.Fallback)
	}
	v.Addr = v.Addr.Unmap()
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.vips[v]; !ok {
		n := r.addrs[v.Addr] + 1
		a := addrOf(v.Addr)
		if err := r.objs.VipAddrs.Put(&a, n); err != nil {
			return fmt.Errorf("xdp: set VIP %s: %w", v.Addr, err)
		}
		r.addrs[v.Addr] = n
		r.vips[v] = struct{}{}
	}
	meta := routerVipMeta{VipId: cfg.ID, Flags: uint32(cfg.Flags), Fallback: cfg.Fallback}
	if err := r.objs.Vips.Put(&k, &meta); err != nil {
		return fmt.Errorf("xdp: set VIP %s: %w", v.Addr, err)
	}
	return nil
}

// DeleteVIP removes a VIP; its table (by id) stays until DeleteTable.
func (r *Router) DeleteVIP(ctx context.Context, v VIP) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k, err := vipKey(v)
	if err != nil {
		return fmt.Errorf("xdp: delete VIP: %w", err)
	}
	v.Addr = v.Addr.Unmap()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.objs.Vips.Delete(&k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("xdp: delete VIP %s: %w", v.Addr, err)
	}
	if _, ok := r.vips[v]; !ok {
		return nil
	}
	delete(r.vips, v)
	a := addrOf(v.Addr)
	n := r.addrs[v.Addr] - 1
	if n == 0 {
		delete(r.addrs, v.Addr)
		err = r.objs.VipAddrs.Delete(&a)
	} else {
		r.addrs[v.Addr] = n
		err = r.objs.VipAddrs.Put(&a, n)
	}
	if err != nil {
		return fmt.Errorf("xdp: delete VIP %s: %w", v.Addr, err)
	}
	return nil
}

// SetBackend sets backend index (0..MaxBackends-1). A backend on another
// interface than the ingress one is reached by XDP_REDIRECT: the interface
// is added to the devmap (and its MAC learnt when it is visible here).
func (r *Router) SetBackend(ctx context.Context, index uint32, b Backend) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if index >= MaxBackends {
		return fmt.Errorf("xdp: set backend %d: index out of range", index)
	}
	be := routerBackend{Family: uint8(b.Family())}
	if be.Family == 0 {
		return fmt.Errorf("xdp: set backend %d: invalid address", index)
	}
	if be.Family == 4 && !r.opts.RouterIPv4.IsValid() || be.Family == 6 && !r.opts.RouterIPv6.IsValid() {
		return fmt.Errorf("xdp: set backend %d: no router address of its family (Options) for the tunnel", index)
	}
	be.Addr = addrOf(b.Addr.Unmap())
	if len(b.NextHopMAC) != len(be.Mac) {
		return fmt.Errorf("xdp: set backend %d: next-hop MAC %q: want 6 bytes", index, b.NextHopMAC)
	}
	copy(be.Mac[:], b.NextHopMAC)
	if b.Ifindex < 0 {
		return fmt.Errorf("xdp: set backend %d: negative ifindex", index)
	}
	be.Ifindex = uint32(b.Ifindex)
	if b.Ifindex != 0 {
		if err := r.objs.TxPorts.Put(be.Ifindex, be.Ifindex); err != nil {
			return fmt.Errorf("xdp: set backend %d: add ifindex %d to devmap: %w", index, b.Ifindex, err)
		}
		if err := r.learnMAC(b.Ifindex); err != nil {
			return fmt.Errorf("xdp: set backend %d: %w", index, err)
		}
	}
	if err := r.objs.Backends.Put(index, &be); err != nil {
		return fmt.Errorf("xdp: set backend %d: %w", index, err)
	}
	return nil
}

// DeleteBackend clears backend index: table slots and connections that
// still name it are treated as having no backend (a connection entry is
// re-placed by the table).
func (r *Router) DeleteBackend(ctx context.Context, index uint32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if index >= MaxBackends {
		return fmt.Errorf("xdp: delete backend %d: index out of range", index)
	}
	if err := r.objs.Backends.Put(index, &routerBackend{}); err != nil {
		return fmt.Errorf("xdp: delete backend %d: %w", index, err)
	}
	return nil
}

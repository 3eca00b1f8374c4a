package xdp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// SwapTable installs a whole new Maglev table (RingSize backend indices,
// NoBackend allowed) for a VIP id: it fills a fresh inner map (through its
// memory mapping), then points the outer map at it in one update, so
// packets see either the old or the new table, never a mix. The old map is
// released. The kernel returns from the outer update only after an RCU
// grace period, so when SwapTable returns no packet uses the old table any
// more; that wait dominates its cost (see SwapTables to share it).
func (r *Router) SwapTable(ctx context.Context, vipID uint32, table []uint32) error {
	return r.SwapTables(ctx, map[uint32][]uint32{vipID: table})
}

// SwapTables swaps the tables of several VIP ids with one batched update
// of the outer map (one grace period for all). Each VIP id switches
// atomically; the ids switch one after the other.
func (r *Router) SwapTables(ctx context.Context, tables map[uint32][]uint32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ids := make([]uint32, 0, len(tables))
	maps := make([]*ebpf.Map, 0, len(tables))
	defer func() {
		for _, m := range maps { // nil once installed
			if m != nil {
				m.Close()
			}
		}
	}()
	fds := make([]uint32, 0, len(tables))
	for id, table := range tables {
		if err := checkTable(id, table); err != nil {
			return fmt.Errorf("xdp: swap table: %w", err)
		}
		m, err := ebpf.NewMap(r.ringSpec)
		if err != nil {
			return fmt.Errorf("xdp: swap table of VIP %d: new map: %w", id, err)
		}
		maps = append(maps, m)
		if err := fillRing(m, table); err != nil {
			return fmt.Errorf("xdp: swap table of VIP %d: fill: %w", id, err)
		}
		ids = append(ids, id)
		fds = append(fds, uint32(m.FD()))
	}
	if len(ids) == 0 {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if n, err := r.objs.Maglev.BatchUpdate(ids, fds, nil); err != nil {
		// The first n ids were switched: keep their maps.
		for i := 0; i < n; i++ {
			r.install(ids[i], maps[i])
			maps[i] = nil
		}
		return fmt.Errorf("xdp: swap tables of VIPs %v: %w", ids[n:], err)
	}
	for i, id := range ids {
		r.install(id, maps[i])
		maps[i] = nil
	}
	return nil
}

// install records m as the current table of id and releases the old one.
func (r *Router) install(id uint32, m *ebpf.Map) {
	if old := r.rings[id]; old != nil {
		old.Close()
	}
	r.rings[id] = m
}

// UpdateEntries changes some slots (slot -> backend index) of the VIP's
// current table in place, in one batched update. Packets may see the
// changes one by one; use SwapTable when that matters.
func (r *Router) UpdateEntries(ctx context.Context, vipID uint32, entries map[uint32]uint32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	keys := make([]uint32, 0, len(entries))
	vals := make([]uint32, 0, len(entries))
	for k, v := range entries {
		if k >= RingSize {
			return fmt.Errorf("xdp: update table of VIP %d: slot %d out of range", vipID, k)
		}
		if v != NoBackend && v >= MaxBackends {
			return fmt.Errorf("xdp: update table of VIP %d: backend %d out of range", vipID, v)
		}
		keys = append(keys, k)
		vals = append(vals, v)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.rings[vipID]
	if m == nil {
		return fmt.Errorf("xdp: update table of VIP %d: no table (SwapTable first)", vipID)
	}
	if len(keys) == 0 {
		return nil
	}
	if _, err := m.BatchUpdate(keys, vals, nil); err != nil {
		return fmt.Errorf("xdp: update table of VIP %d: %w", vipID, err)
	}
	return nil
}

// DeleteTable removes a VIP id's table: its VIPs then have no backend.
func (r *Router) DeleteTable(ctx context.Context, vipID uint32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.objs.Maglev.Delete(vipID); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return fmt.Errorf("xdp: delete table of VIP %d: %w", vipID, err)
	}
	if old := r.rings[vipID]; old != nil {
		old.Close()
		delete(r.rings, vipID)
	}
	return nil
}

// ringStride is the distance between slots in an array map's memory: the
// kernel rounds values up to 8 bytes.
const ringStride = 8

// fillRing writes a whole table into a fresh (not yet visible) inner map
// through a shared mapping of its memory: one copy instead of 65,537
// element updates.
func fillRing(m *ebpf.Map, table []uint32) error {
	page := os.Getpagesize()
	size := (RingSize*ringStride + page - 1) / page * page
	b, err := unix.Mmap(m.FD(), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mmap: %w", err)
	}
	for i, v := range table {
		binary.NativeEndian.PutUint32(b[i*ringStride:], v)
	}
	if err := unix.Munmap(b); err != nil {
		return fmt.Errorf("munmap: %w", err)
	}
	return nil
}

func checkTable(vipID uint32, table []uint32) error {
	if vipID >= MaxVIPs {
		return fmt.Errorf("VIP id %d out of range", vipID)
	}
	if len(table) != RingSize {
		return fmt.Errorf("VIP %d: table has %d slots, want %d", vipID, len(table), RingSize)
	}
	for i, b := range table {
		if b != NoBackend && b >= MaxBackends {
			return fmt.Errorf("VIP %d: slot %d: backend %d out of range", vipID, i, b)
		}
	}
	return nil
}

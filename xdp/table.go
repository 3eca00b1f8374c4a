package xdp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// tables are a VIP id's two Maglev tables: gen is the one packets use,
// the other is refilled by the next swap.
type tables struct {
	maps    [2]*ebpf.Map
	gen     uint32
	flipped time.Time // when gen last changed
}

func (t *tables) close() {
	for _, m := range t.maps {
		m.Close()
	}
}

// reuseAfter is how long after a flip the table just retired may be
// overwritten: a packet that looked the old generation up just before the
// flip is done with it well within this (an XDP run takes microseconds,
// a NAPI poll of 64 packets well under a millisecond).
const reuseAfter = time.Millisecond

// SwapTable installs a whole new Maglev table (RingSize backend indices,
// NoBackend allowed) for a VIP id, atomically: packets see the old table
// or the new one, never a mix. Each VIP id has two tables: the new one is
// written into the table not in use (through its memory mapping, one copy)
// and then made current by one update of the generation array, which
// costs no RCU grace period. The first table of a VIP id creates both
// tables and installs them in the outer map, which does wait for one.
func (r *Router) SwapTable(ctx context.Context, vipID uint32, table []uint32) error {
	return r.SwapTables(ctx, map[uint32][]uint32{vipID: table})
}

// SwapTables swaps the tables of several VIP ids. Each VIP id switches
// atomically; the ids switch one after the other, in one batched update.
func (r *Router) SwapTables(ctx context.Context, tabs map[uint32][]uint32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for id, table := range tabs {
		if err := checkTable(id, table); err != nil {
			return fmt.Errorf("xdp: swap table: %w", err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids, gens []uint32
	for id, table := range tabs {
		t := r.rings[id]
		if t == nil {
			if err := r.installTables(id, table); err != nil {
				return fmt.Errorf("xdp: swap table of VIP %d: %w", id, err)
			}
			continue
		}
		if wait := reuseAfter - time.Since(t.flipped); wait > 0 {
			time.Sleep(wait)
		}
		next := t.gen ^ 1
		if err := fillRing(t.maps[next], table); err != nil {
			return fmt.Errorf("xdp: swap table of VIP %d: fill: %w", id, err)
		}
		ids, gens = append(ids, id), append(gens, next)
	}
	if len(ids) == 0 {
		return nil
	}
	n, err := r.objs.TableGen.BatchUpdate(ids, gens, nil)
	now := time.Now()
	for i := range n {
		t := r.rings[ids[i]]
		t.gen, t.flipped = gens[i], now
	}
	if err != nil {
		return fmt.Errorf("xdp: swap tables of VIPs %v: %w", ids[n:], err)
	}
	return nil
}

// installTables creates a VIP id's two tables, both holding table, and
// installs them with generation 0 in use. r.mu held.
func (r *Router) installTables(id uint32, table []uint32) error {
	t := &tables{}
	for i := range t.maps {
		m, err := ebpf.NewMap(r.ringSpec)
		if err != nil {
			t.close()
			return fmt.Errorf("new map: %w", err)
		}
		t.maps[i] = m
		if err := fillRing(m, table); err != nil {
			t.close()
			return fmt.Errorf("fill: %w", err)
		}
	}
	if err := r.objs.TableGen.Put(id, uint32(0)); err != nil {
		t.close()
		return err
	}
	keys := []uint32{2 * id, 2*id + 1}
	fds := []uint32{uint32(t.maps[0].FD()), uint32(t.maps[1].FD())}
	if _, err := r.objs.Maglev.BatchUpdate(keys, fds, nil); err != nil {
		_, _ = r.objs.Maglev.BatchDelete(keys, nil)
		t.close()
		return err
	}
	t.flipped = time.Now()
	r.rings[id] = t
	return nil
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
	t := r.rings[vipID]
	if t == nil {
		return fmt.Errorf("xdp: update table of VIP %d: no table (SwapTable first)", vipID)
	}
	if len(keys) == 0 {
		return nil
	}
	if _, err := t.maps[t.gen].BatchUpdate(keys, vals, nil); err != nil {
		return fmt.Errorf("xdp: update table of VIP %d: %w", vipID, err)
	}
	return nil
}

// DeleteTable removes a VIP id's tables: its VIPs then have no backend.
func (r *Router) DeleteTable(ctx context.Context, vipID uint32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range []uint32{2 * vipID, 2*vipID + 1} {
		if err := r.objs.Maglev.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("xdp: delete table of VIP %d: %w", vipID, err)
		}
	}
	if t := r.rings[vipID]; t != nil {
		t.close()
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

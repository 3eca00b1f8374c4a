package local

import (
	"container/heap"
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/stitchnfv/stitch/vim"
)

// ipam hands out IPv4 host numbers of one subnet. Host numbers 1..reserved
// belong to the sites (site i is host i+1, the gateway of its instances);
// instances get the lowest free number above. Allocation is O(log n): a
// high-water mark plus a min-heap of numbers freed below it.
type ipam struct {
	prefix   netip.Prefix
	base     uint32 // the network address
	first    uint32 // lowest host number for instances
	last     uint32 // highest usable host number (broadcast excluded)
	next     uint32 // every free number < next is in freed
	freed    uintHeap
	used     map[uint32]bool
	reserved int
	// siteShift moves the sites' addresses up: 1 on the OVN fabric, where
	// host 1 is the gateway (a logical router port) and site i is i+2.
	siteShift uint32
}

func parseCIDR(cidr string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%w: CIDR %q: %v", vim.ErrInvalid, cidr, err)
	}
	if !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%w: CIDR %q: only IPv4 subnets are supported by the local driver", vim.ErrInvalid, cidr)
	}
	if p.Bits() > 30 {
		return netip.Prefix{}, fmt.Errorf("%w: CIDR %q: prefix longer than /30 leaves no room for instances", vim.ErrInvalid, cidr)
	}
	return p.Masked(), nil
}

func newIPAM(p netip.Prefix, reserved int) (*ipam, error) {
	a4 := p.Addr().As4()
	size := uint64(1) << (32 - p.Bits())
	a := &ipam{
		prefix:   p,
		base:     binary.BigEndian.Uint32(a4[:]),
		first:    uint32(reserved) + 1,
		last:     uint32(size - 2),
		used:     make(map[uint32]bool),
		reserved: reserved,
	}
	if a.first > a.last {
		return nil, fmt.Errorf("%w: CIDR %s has %d host addresses; the %d sites take %d and instances need at least one more",
			vim.ErrInvalid, p, size-2, reserved, reserved)
	}
	a.next = a.first
	return a, nil
}

func (a *ipam) addr(n uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], a.base+n)
	return netip.AddrFrom4(b)
}

// siteAddr is the address site number idx (its index in Config.Sites) holds.
func (a *ipam) siteAddr(idx int) netip.Addr { return a.addr(uint32(idx) + 1 + a.siteShift) }

func (a *ipam) hostNumber(ip netip.Addr) (uint32, bool) {
	if !ip.Is4() || !a.prefix.Contains(ip) {
		return 0, false
	}
	b := ip.As4()
	return binary.BigEndian.Uint32(b[:]) - a.base, true
}

// allocate takes the lowest free instance address.
func (a *ipam) allocate() (netip.Addr, error) {
	for a.freed.Len() > 0 {
		n := heap.Pop(&a.freed).(uint32)
		if !a.used[n] {
			a.used[n] = true
			return a.addr(n), nil
		}
	}
	for a.next <= a.last && a.used[a.next] {
		a.next++
	}
	if a.next > a.last {
		return netip.Addr{}, fmt.Errorf("%w: subnet %s has no free address", vim.ErrNoCapacity, a.prefix)
	}
	n := a.next
	a.next++
	a.used[n] = true
	return a.addr(n), nil
}

// claim takes a given address; it must be an instance address and free.
func (a *ipam) claim(ip netip.Addr) error {
	n, ok := a.hostNumber(ip)
	switch {
	case !ok:
		return fmt.Errorf("%w: address %s is not in subnet %s", vim.ErrInvalid, ip, a.prefix)
	case n == 0 || n > a.last:
		return fmt.Errorf("%w: address %s is the network or broadcast address of %s", vim.ErrInvalid, ip, a.prefix)
	case n < a.first:
		return fmt.Errorf("%w: address %s of %s is reserved for a site gateway", vim.ErrInvalid, ip, a.prefix)
	case a.used[n]:
		return fmt.Errorf("%w: address %s is already in use", vim.ErrInvalid, ip)
	}
	a.used[n] = true
	return nil
}

func (a *ipam) release(ip netip.Addr) {
	n, ok := a.hostNumber(ip)
	if !ok || !a.used[n] {
		return
	}
	delete(a.used, n)
	if n < a.next {
		heap.Push(&a.freed, n)
	}
}

func (a *ipam) inUse() int { return len(a.used) }

type uintHeap []uint32

func (h uintHeap) Len() int           { return len(h) }
func (h uintHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h uintHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *uintHeap) Push(x any)        { *h = append(*h, x.(uint32)) }
func (h *uintHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

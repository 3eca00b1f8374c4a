package userspace

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/google/gopacket"

	"github.com/stitchnfv/stitch/xdp"
)

// DefaultConnTableSize is the connection table size when
// xdp.Options.ConnTableSize is 0 (as in the XDP program).
const DefaultConnTableSize = 262144

// Action is an XDP action; the values are the kernel's (XDP_DROP = 1...),
// so they compare directly with the return value of a BPF test run.
type Action uint32

// The actions Process returns (Aborted never).
const (
	Aborted  Action = 0
	Drop     Action = 1
	Pass     Action = 2
	TX       Action = 3
	Redirect Action = 4
)

func (a Action) String() string {
	switch a {
	case Aborted:
		return "ABORTED"
	case Drop:
		return "DROP"
	case Pass:
		return "PASS"
	case TX:
		return "TX"
	case Redirect:
		return "REDIRECT"
	}
	return fmt.Sprintf("Action(%d)", uint32(a))
}

// Verdict is what happens to a frame.
type Verdict struct {
	Action Action
	// Egress is the interface the frame leaves through: the ingress
	// interface for TX, the backend's for Redirect; 0 otherwise.
	Egress int
}

func (v Verdict) String() string {
	if v.Egress != 0 {
		return fmt.Sprintf("%s(if %d)", v.Action, v.Egress)
	}
	return v.Action.String()
}

// addr is an address as the router keys it: 16 bytes, IPv4 mapped.
type addr = [16]byte

type vipKey struct {
	addr  addr
	port  uint16
	proto uint8
}

type backend struct {
	addr    addr
	family  uint8 // 0 = unset, 4, 6
	mac     [6]byte
	ifindex uint32
}

// Dataplane is the userspace service router. Its zero value is not usable;
// see New.
type Dataplane struct {
	mu       sync.Mutex
	src4     [4]byte
	src6     addr
	has4     bool
	has6     bool
	vips     map[vipKey]xdp.VIPConfig
	vipAddrs map[addr]uint32 // VIP address -> number of VIP keys
	backends [xdp.MaxBackends]backend
	tables   map[uint32][]uint32
	ifMACs   map[uint32][6]byte
	txPorts  map[uint32]bool
	conns    *lru
	vipStats map[uint32]*xdp.FlowCounters
	beStats  map[uint32]*xdp.FlowCounters
	global   xdp.GlobalCounters
	buf      gopacket.SerializeBuffer
	l2       l2Decoder
}

// New makes a data plane with the options of xdp.Load: the tunnel source
// addresses and the connection table size.
func New(opts xdp.Options) (*Dataplane, error) {
	d := &Dataplane{
		vips:     map[vipKey]xdp.VIPConfig{},
		vipAddrs: map[addr]uint32{},
		tables:   map[uint32][]uint32{},
		ifMACs:   map[uint32][6]byte{},
		txPorts:  map[uint32]bool{},
		vipStats: map[uint32]*xdp.FlowCounters{},
		beStats:  map[uint32]*xdp.FlowCounters{},
		buf:      gopacket.NewSerializeBufferExpectedSize(128, 1600),
		l2:       newL2Decoder(),
	}
	if a := opts.RouterIPv4; a.IsValid() {
		if !a.Is4() {
			return nil, fmt.Errorf("userspace: RouterIPv4 %s is not IPv4", a)
		}
		d.src4, d.has4 = a.As4(), true
	}
	if a := opts.RouterIPv6; a.IsValid() {
		if !a.Is6() || a.Is4In6() {
			return nil, fmt.Errorf("userspace: RouterIPv6 %s is not IPv6", a)
		}
		d.src6, d.has6 = a.As16(), true
	}
	size := int(opts.ConnTableSize)
	if size == 0 {
		size = DefaultConnTableSize
	}
	d.conns = newLRU(size)
	return d, nil
}

func keyOf(v xdp.VIP) (vipKey, error) {
	if !v.Addr.IsValid() {
		return vipKey{}, fmt.Errorf("VIP without address")
	}
	if v.Proto != xdp.TCP && v.Proto != xdp.UDP {
		return vipKey{}, fmt.Errorf("VIP %s: protocol %d is neither TCP nor UDP", v.Addr, v.Proto)
	}
	return vipKey{addr: v.Addr.Unmap().As16(), port: v.Port, proto: uint8(v.Proto)}, nil
}

// SetVIP adds or replaces a VIP.
func (d *Dataplane) SetVIP(ctx context.Context, v xdp.VIP, cfg xdp.VIPConfig) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k, err := keyOf(v)
	if err != nil {
		return fmt.Errorf("userspace: set VIP: %w", err)
	}
	if cfg.ID >= xdp.MaxVIPs {
		return fmt.Errorf("userspace: set VIP %s: id %d out of range", v.Addr, cfg.ID)
	}
	if cfg.Fallback != xdp.NoBackend && cfg.Fallback >= xdp.MaxBackends {
		return fmt.Errorf("userspace: set VIP %s: fallback %d out of range", v.Addr, cfg.Fallback)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.vips[k]; !ok {
		if len(d.vips) >= xdp.MaxVIPs {
			return fmt.Errorf("userspace: set VIP %s: %d VIPs already", v.Addr, xdp.MaxVIPs)
		}
		d.vipAddrs[k.addr]++
	}
	d.vips[k] = cfg
	return nil
}

// DeleteVIP removes a VIP; its table (by id) stays until DeleteTable.
func (d *Dataplane) DeleteVIP(ctx context.Context, v xdp.VIP) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k, err := keyOf(v)
	if err != nil {
		return fmt.Errorf("userspace: delete VIP: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.vips[k]; !ok {
		return nil
	}
	delete(d.vips, k)
	if d.vipAddrs[k.addr]--; d.vipAddrs[k.addr] == 0 {
		delete(d.vipAddrs, k.addr)
	}
	return nil
}

// SetBackend sets backend index (0..xdp.MaxBackends-1). A backend on
// another interface than the ingress one is reached by Redirect; the
// interface's MAC is learnt when it is visible here (SetInterfaceMAC
// overrides).
func (d *Dataplane) SetBackend(ctx context.Context, index uint32, b xdp.Backend) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if index >= xdp.MaxBackends {
		return fmt.Errorf("userspace: set backend %d: index out of range", index)
	}
	be := backend{family: uint8(b.Family())}
	if be.family == 0 {
		return fmt.Errorf("userspace: set backend %d: invalid address", index)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if be.family == 4 && !d.has4 || be.family == 6 && !d.has6 {
		return fmt.Errorf("userspace: set backend %d: no router address of its family (Options) for the tunnel", index)
	}
	be.addr = b.Addr.Unmap().As16()
	if len(b.NextHopMAC) != len(be.mac) {
		return fmt.Errorf("userspace: set backend %d: next-hop MAC %q: want 6 bytes", index, b.NextHopMAC)
	}
	copy(be.mac[:], b.NextHopMAC)
	if b.Ifindex < 0 {
		return fmt.Errorf("userspace: set backend %d: negative ifindex", index)
	}
	be.ifindex = uint32(b.Ifindex)
	if b.Ifindex != 0 {
		d.txPorts[be.ifindex] = true
		if ifc, err := net.InterfaceByIndex(b.Ifindex); err == nil && len(ifc.HardwareAddr) == 6 {
			d.ifMACs[be.ifindex] = [6]byte(ifc.HardwareAddr)
		}
	}
	d.backends[index] = be
	return nil
}

// DeleteBackend clears backend index: table slots and connections that
// still name it are treated as having no backend.
func (d *Dataplane) DeleteBackend(ctx context.Context, index uint32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if index >= xdp.MaxBackends {
		return fmt.Errorf("userspace: delete backend %d: index out of range", index)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.backends[index] = backend{}
	return nil
}

// SetInterfaceMAC sets the source MAC of frames leaving through ifindex.
func (d *Dataplane) SetInterfaceMAC(ctx context.Context, ifindex int, mac net.HardwareAddr) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(mac) != 6 {
		return fmt.Errorf("userspace: interface MAC %q: want 6 bytes", mac)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ifMACs[uint32(ifindex)] = [6]byte(mac)
	return nil
}

// SwapTable installs a whole new Maglev table (xdp.RingSize backend
// indices, xdp.NoBackend allowed) for a VIP id. The table is copied.
func (d *Dataplane) SwapTable(ctx context.Context, vipID uint32, table []uint32) error {
	return d.SwapTables(ctx, map[uint32][]uint32{vipID: table})
}

// SwapTables installs the tables of several VIP ids.
func (d *Dataplane) SwapTables(ctx context.Context, tables map[uint32][]uint32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	copies := make(map[uint32][]uint32, len(tables))
	for id, t := range tables {
		if err := checkTable(id, t); err != nil {
			return fmt.Errorf("userspace: swap table: %w", err)
		}
		copies[id] = append([]uint32(nil), t...)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, t := range copies {
		d.tables[id] = t
	}
	return nil
}

// UpdateEntries changes some slots (slot -> backend index) of the VIP's
// current table.
func (d *Dataplane) UpdateEntries(ctx context.Context, vipID uint32, entries map[uint32]uint32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for k, v := range entries {
		if k >= xdp.RingSize {
			return fmt.Errorf("userspace: update table of VIP %d: slot %d out of range", vipID, k)
		}
		if v != xdp.NoBackend && v >= xdp.MaxBackends {
			return fmt.Errorf("userspace: update table of VIP %d: backend %d out of range", vipID, v)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.tables[vipID]
	if t == nil {
		return fmt.Errorf("userspace: update table of VIP %d: no table (SwapTable first)", vipID)
	}
	for k, v := range entries {
		t[k] = v
	}
	return nil
}

// DeleteTable removes a VIP id's table: its VIPs then have no backend.
func (d *Dataplane) DeleteTable(ctx context.Context, vipID uint32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.tables, vipID)
	return nil
}

func checkTable(vipID uint32, table []uint32) error {
	if vipID >= xdp.MaxVIPs {
		return fmt.Errorf("VIP id %d out of range", vipID)
	}
	if len(table) != xdp.RingSize {
		return fmt.Errorf("VIP %d: table has %d slots, want %d", vipID, len(table), xdp.RingSize)
	}
	for i, b := range table {
		if b != xdp.NoBackend && b >= xdp.MaxBackends {
			return fmt.Errorf("VIP %d: slot %d: backend %d out of range", vipID, i, b)
		}
	}
	return nil
}

// Counters returns a snapshot of the counters, in the form of
// xdp.Router.Counters (maps hold non-zero entries only).
func (d *Dataplane) Counters(ctx context.Context) (xdp.Counters, error) {
	if err := ctx.Err(); err != nil {
		return xdp.Counters{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	c := xdp.Counters{VIPs: map[uint32]xdp.FlowCounters{}, Backends: map[uint32]xdp.FlowCounters{}, Global: d.global}
	for id, s := range d.vipStats {
		if *s != (xdp.FlowCounters{}) {
			c.VIPs[id] = *s
		}
	}
	for id, s := range d.beStats {
		if *s != (xdp.FlowCounters{}) {
			c.Backends[id] = *s
		}
	}
	return c, nil
}

// Connections is the number of entries in the connection table.
func (d *Dataplane) Connections() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.conns.len()
}

// Lookup returns the backend index of a flow's connection entry (the
// tuple as the client sent it, Dst the VIP), without refreshing it.
func (d *Dataplane) Lookup(t xdp.FiveTuple) (uint32, bool) {
	k := flowKey{src: t.Src.As16(), dst: t.Dst.As16(), sport: t.SrcPort, dport: t.DstPort, proto: uint8(t.Proto)}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.conns.peek(k)
}

func tuple(k *flowKey) xdp.FiveTuple {
	return xdp.FiveTuple{Src: netip.AddrFrom16(k.src), Dst: netip.AddrFrom16(k.dst),
		SrcPort: k.sport, DstPort: k.dport, Proto: xdp.Proto(k.proto)}
}

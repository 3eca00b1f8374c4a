package sim

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/stitchnfv/stitch/interdomain/fsm"
	"github.com/stitchnfv/stitch/interdomain/rib"
	"github.com/stitchnfv/stitch/interdomain/wire"
)

// ErrNoLink is returned for an operation on two domains that are not linked.
var ErrNoLink = errors.New("no such link")

// Network is a simulated set of domains.
type Network struct {
	now   time.Time
	start time.Time
	nodes map[string]*node
	ids   []string
	links map[[2]string]*link
	queue queue
	seq   uint64
	keys  map[string]bool
	base  func(id string) fsm.Config
	stats Stats
	// Trace, if set, sees every delivered message.
	Trace func(at time.Time, from, to string, m wire.Message)
	// AfterEvent, if set, runs after every event, to check invariants
	// (such as the absence of forwarding loops) at every instant.
	AfterEvent func()
	// OnChange, if set, sees every Loc-RIB change of every domain in the
	// order they happen.
	OnChange func(at time.Time, node string, c rib.Change)
}

type node struct {
	id      string
	sp      *fsm.Speaker
	cfg     fsm.Config
	timerAt time.Time
}

type link struct {
	latency   time.Duration
	up        bool
	blackhole bool
	// epoch changes when the link goes down, so that messages in flight on
	// a dead stream are dropped rather than delivered to the next one.
	epoch int
}

// Stats are counters of a run.
type Stats struct {
	Messages map[wire.Type]int
	Sent     int
	// Announced, Withdrawn and Retracted count routes, withdrawals and
	// retractions in UPDATEs sent.
	Announced, Withdrawn, Retracted int
	// LastChange is when a Loc-RIB last changed anywhere.
	LastChange time.Time
	// Changes counts Loc-RIB changes per domain: after a withdrawal, more
	// than one at a domain is path exploration.
	Changes map[string]int
	Events  []NodeEvent
}

// NodeEvent is an fsm event with the domain that reported it.
type NodeEvent struct {
	At   time.Time
	Node string
	fsm.Event
}

// New builds a network from a topology. base returns the configuration of a
// domain; New fills in LocalID, Key and Keys if empty, and a PeerConfig for
// every neighbour base did not configure, with the link latency in
// milliseconds as export metric.
func New(start time.Time, top Topology, base func(id string) fsm.Config) (*Network, error) {
	n := &Network{
		now: start, start: start,
		nodes: map[string]*node{}, links: map[[2]string]*link{},
		base:  base,
		stats: Stats{Messages: map[wire.Type]int{}, Changes: map[string]int{}},
	}
	neigh := map[string][]Link{}
	for _, l := range top.Links {
		k := key(l.A, l.B)
		if _, dup := n.links[k]; dup || l.A == l.B {
			return nil, fmt.Errorf("sim: link %s-%s repeated or a loop", l.A, l.B)
		}
		n.links[k] = &link{latency: l.Latency}
		neigh[l.A] = append(neigh[l.A], l)
		neigh[l.B] = append(neigh[l.B], Link{l.B, l.A, l.Latency})
	}
	keys := Keys(top.Nodes)
	for _, id := range top.Nodes {
		cfg := fsm.Config{}
		if base != nil {
			cfg = base(id)
		}
		cfg.LocalID = id
		if cfg.Key == nil {
			cfg.Key = Key(id)
		}
		if cfg.Keys == nil {
			cfg.Keys = keys
		}
		for _, l := range neigh[id] {
			if !slices.ContainsFunc(cfg.Peers, func(p fsm.PeerConfig) bool { return p.ID == l.B }) {
				pc := fsm.PeerConfig{ID: l.B}
				pc.Export.Metric = uint32(l.Latency / time.Millisecond)
				cfg.Peers = append(cfg.Peers, pc)
			}
		}
		sp, err := fsm.New(cfg)
		if err != nil {
			return nil, fmt.Errorf("sim: node %s: %w", id, err)
		}
		n.nodes[id] = &node{id: id, sp: sp, cfg: cfg}
		n.ids = append(n.ids, id)
	}
	slices.Sort(n.ids)
	return n, nil
}

func key(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// Now returns the simulated time.
func (n *Network) Now() time.Time { return n.now }

// Stats returns the counters so far.
func (n *Network) Stats() Stats { return n.stats }

// ResetStats clears the counters, to measure one phase of a scenario.
func (n *Network) ResetStats() {
	n.stats = Stats{Messages: map[wire.Type]int{}, Changes: map[string]int{}, LastChange: n.now}
}

// Speaker returns a domain's state machine, for assertions.
func (n *Network) Speaker(id string) *fsm.Speaker { return n.nodes[id].sp }

// IDs returns the domains, sorted.
func (n *Network) IDs() []string { return n.ids }

// Up brings every link up, in a fixed order.
func (n *Network) Up() error {
	keys := make([][2]string, 0, len(n.links))
	for k := range n.links {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	})
	for _, k := range keys {
		if err := n.Connect(k[0], k[1]); err != nil {
			return err
		}
	}
	return nil
}

// Connect opens the stream between a and b: both speakers are told at once.
func (n *Network) Connect(a, b string) error {
	l := n.links[key(a, b)]
	if l == nil {
		return fmt.Errorf("sim: connect %s-%s: %w", a, b, ErrNoLink)
	}
	l.up, l.blackhole = true, false
	l.epoch++
	for _, pair := range [][2]string{{a, b}, {b, a}} {
		nd := n.nodes[pair[0]]
		if err := nd.sp.Connected(n.now, pair[1]); err != nil {
			return fmt.Errorf("sim: %w", err)
		}
		n.drain(nd)
	}
	return nil
}

// Cut breaks the stream between a and b as a failed transport would: both
// sides see Disconnected, and messages in flight are lost.
func (n *Network) Cut(a, b string) error {
	l := n.links[key(a, b)]
	if l == nil {
		return fmt.Errorf("sim: cut %s-%s: %w", a, b, ErrNoLink)
	}
	l.up = false
	l.epoch++
	for _, pair := range [][2]string{{a, b}, {b, a}} {
		nd := n.nodes[pair[0]]
		if err := nd.sp.Disconnected(n.now, pair[1], errors.New("link cut")); err != nil {
			return err
		}
		n.drain(nd)
	}
	return nil
}

// Blackhole makes the link between a and b silently drop everything, so only
// the hold timers notice.
func (n *Network) Blackhole(a, b string) error {
	l := n.links[key(a, b)]
	if l == nil {
		return fmt.Errorf("sim: blackhole %s-%s: %w", a, b, ErrNoLink)
	}
	l.blackhole = true
	return nil
}

// Crash kills a domain: its neighbours see their streams fail, and the
// domain comes back as a fresh speaker (same configuration, empty RIB, no
// local services) with its links down. Reconnect them with Connect.
func (n *Network) Crash(id string) error {
	nd := n.nodes[id]
	for k, l := range n.links {
		if (k[0] == id || k[1] == id) && l.up {
			other := k[0]
			if other == id {
				other = k[1]
			}
			l.up = false
			l.epoch++
			if err := n.nodes[other].sp.Disconnected(n.now, id, errors.New("peer crashed")); err != nil {
				return err
			}
			n.drain(n.nodes[other])
		}
	}
	sp, err := fsm.New(nd.cfg)
	if err != nil {
		return err
	}
	nd.sp, nd.timerAt = sp, time.Time{}
	return nil
}

// Announce originates a service at a domain.
func (n *Network) Announce(id string, svc fsm.LocalService) error {
	nd := n.nodes[id]
	if err := nd.sp.Announce(n.now, svc); err != nil {
		return err
	}
	n.drain(nd)
	return nil
}

// Withdraw stops originating a service at a domain.
func (n *Network) Withdraw(id, service string) {
	nd := n.nodes[id]
	nd.sp.Withdraw(n.now, service)
	n.drain(nd)
}

// Inject delivers m from a to b over their link as if a had sent it; tests
// use it to play a hijacker or a broken peer.
func (n *Network) Inject(from, to string, m wire.Message) error {
	l := n.links[key(from, to)]
	if l == nil {
		return fmt.Errorf("sim: inject %s-%s: %w", from, to, ErrNoLink)
	}
	n.transmit(from, to, l, m)
	return nil
}

// Run processes events until d of simulated time has passed.
func (n *Network) Run(d time.Duration) {
	end := n.now.Add(d)
	for n.queue.Len() > 0 && !n.queue[0].at.After(end) {
		ev := heap.Pop(&n.queue).(*event)
		n.now = ev.at
		ev.fn()
		if n.AfterEvent != nil {
			n.AfterEvent()
		}
	}
	n.now = end
}

// ForwardingLoops returns the cycles of domains that forward service to one
// another by their current best paths (each towards the peer it learnt its
// best from). Path-vector loop prevention rules them out once converged;
// this checks transient states too.
func (n *Network) ForwardingLoops(service string) [][]string {
	var loops [][]string
	done := map[string]bool{}
	for _, start := range n.ids {
		seen := map[string]int{}
		var walk []string
		for id := start; id != "" && !done[id]; {
			if i, ok := seen[id]; ok {
				loops = append(loops, walk[i:])
				break
			}
			seen[id] = len(walk)
			walk = append(walk, id)
			b, ok := n.nodes[id].sp.RIB().Best(service)
			if !ok {
				break
			}
			id = b.Peer
		}
		for _, id := range walk {
			done[id] = true
		}
	}
	return loops
}

package vnfm

import (
	"strings"
	"sync"
	"time"

	gpb "github.com/openconfig/gnmi/proto/gnmi"

	sdktelemetry "github.com/stitchnfv/stitch/sdk/telemetry"
	"github.com/stitchnfv/stitch/telemetry"
)

// Relative paths (under an instance's state/) collected whatever the VNFD
// declares: they are what healing and the slot policies look at.
const (
	telemetryOperStatus = sdktelemetry.OperStatus
	telemetrySlots      = "slots"
)

// instanceStateDepth is the number of elements of an instance's state
// container: services/service[name]/instances/instance[id]/state.
const instanceStateDepth = 5

// telemetryLeaf is the latest value of one path of an instance.
type telemetryLeaf struct {
	path    string // relative to state/
	present bool   // false after a delete
	isStr   bool
	num     float64
	str     string
	ts      int64 // the target's timestamp (last change), ns
	recv    int64 // when we last received it, ns
}

// telemetryPathNode indexes leaves by their path elements so that ingesting an
// update costs a map lookup per element and no allocation.
type telemetryPathNode struct {
	kids map[string]*telemetryPathNode
	leaf int // index into leaves, or noTelemetryLeaf / ignoredTelemetryLeaf
}

const (
	noTelemetryLeaf      = -1 // an intermediate node
	ignoredTelemetryLeaf = -2 // a leaf we did not ask for
)

// telemetryInstance is everything collected of one instance.
type telemetryInstance struct {
	targetedAt time.Time

	mu     sync.Mutex
	target TelemetryTarget
	// gen increases with every change of target, so that a subscription
	// started for an older one stops writing once it is replaced.
	gen     uint64
	metrics map[string]string // monitoring-parameter id → relative path
	leaves  []telemetryLeaf
	index   map[string]int // relative path → leaves
	root    telemetryPathNode

	connected, synced bool
	lastHeard         time.Time
	lastError         string
	established       uint64 // streams that got a first response
	notifications     uint64
	updates           uint64
	deletes           uint64
	coalesced         uint64
	ignored           uint64
	errors            uint64
}

func newTelemetryInstance(t TelemetryTarget, now time.Time) *telemetryInstance {
	in := &telemetryInstance{targetedAt: now}
	in.setTarget(t)
	return in
}

// telemetryMetricPath is where a performance-metric lives under state/.
func telemetryMetricPath(metric string) string { return strings.ReplaceAll(metric, ".", "/") }

// setTarget (under mu, or before publication) installs t and keeps only the
// values it still collects.
func (in *telemetryInstance) setTarget(t TelemetryTarget) {
	samePlace := in.target.Profile == t.Profile && in.target.Instance == t.Instance
	in.target = t
	in.metrics = make(map[string]string, len(t.Metrics))
	for _, m := range t.Metrics {
		in.metrics[m.ID] = telemetryMetricPath(m.Metric)
	}
	kept := in.leaves[:0]
	if samePlace {
		for _, l := range in.leaves {
			if in.wanted(l.path) {
				kept = append(kept, l)
			}
		}
	}
	in.leaves = kept
	in.index = make(map[string]int, len(kept))
	in.root = telemetryPathNode{leaf: noTelemetryLeaf}
	for i, l := range kept {
		in.index[l.path] = i
		in.root.insert(strings.Split(l.path, "/"), i)
	}
}

// retarget replaces the target if it changed, and says whether it did.
func (in *telemetryInstance) retarget(t TelemetryTarget) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.target.equal(t) {
		return false
	}
	in.gen++
	in.connected, in.synced = false, false
	in.setTarget(t)
	return true
}

func (in *telemetryInstance) current() (uint64, TelemetryTarget) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.gen, in.target
}

func (in *telemetryInstance) generation() uint64 {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.gen
}

// wanted says whether a path is collected: oper-status, the slot leaves and
// the declared metrics, nothing else.
func (in *telemetryInstance) wanted(rel string) bool {
	if rel == telemetryOperStatus || strings.HasPrefix(rel, telemetrySlots+"/") {
		return true
	}
	for _, p := range in.metrics {
		if p == rel {
			return true
		}
	}
	return false
}

func (n *telemetryPathNode) insert(names []string, leaf int) {
	for _, name := range names {
		if n.kids == nil {
			n.kids = map[string]*telemetryPathNode{}
		}
		k, ok := n.kids[name]
		if !ok {
			k = &telemetryPathNode{leaf: noTelemetryLeaf}
			n.kids[name] = k
		}
		n = k
	}
	n.leaf = leaf
}

// gnmiElems reads the concatenation of a notification's prefix and a path
// without copying them.
type gnmiElems struct{ pre, path []*gpb.PathElem }

func (e gnmiElems) len() int { return len(e.pre) + len(e.path) }

func (e gnmiElems) at(i int) *gpb.PathElem {
	if i < len(e.pre) {
		return e.pre[i]
	}
	return e.path[i-len(e.pre)]
}

// inInstance reports whether the first n elements (at most instanceStateDepth)
// are those of the instance's state container.
func (in *telemetryInstance) inInstance(e gnmiElems, n int) bool {
	for i := range min(n, instanceStateDepth) {
		el := e.at(i)
		var ok bool
		switch i {
		case 0:
			ok = el.GetName() == "services"
		case 1:
			ok = el.GetName() == "service" && el.GetKey()["name"] == in.target.Profile
		case 2:
			ok = el.GetName() == "instances"
		case 3:
			ok = el.GetName() == "instance" && el.GetKey()["id"] == in.target.Instance
		case 4:
			ok = el.GetName() == "state"
		}
		if !ok {
			return false
		}
	}
	return true
}

// gnmiRelPath renders the elements below state/ in the tree's canonical form.
func gnmiRelPath(e gnmiElems) string {
	p := make(telemetry.Path, 0, e.len()-instanceStateDepth)
	for i := instanceStateDepth; i < e.len(); i++ {
		p = append(p, telemetry.Elem{Name: e.at(i).GetName(), Keys: e.at(i).GetKey()})
	}
	return strings.TrimPrefix(p.String(), "/")
}

// lookup returns the leaf an update's path names, adding it if it is
// wanted and new, or -1 if it is not collected.
func (in *telemetryInstance) lookup(e gnmiElems) int {
	if e.len() <= instanceStateDepth || !in.inInstance(e, instanceStateDepth) {
		return -1
	}
	n, keyed := &in.root, false
	for i := instanceStateDepth; i < e.len() && n != nil; i++ {
		el := e.at(i)
		if len(el.GetKey()) > 0 {
			keyed = true
			break
		}
		n = n.kids[el.GetName()]
	}
	if !keyed && n != nil && n.leaf != noTelemetryLeaf {
		if n.leaf == ignoredTelemetryLeaf {
			return -1
		}
		return n.leaf
	}
	// First sight of this path (or a keyed one, which the trie does not
	// index): the slow way, once.
	rel := gnmiRelPath(e)
	i, ok := in.index[rel]
	if !ok {
		if !in.wanted(rel) {
			if !keyed {
				in.root.insert(strings.Split(rel, "/"), ignoredTelemetryLeaf)
			}
			return -1
		}
		i = len(in.leaves)
		in.leaves = append(in.leaves, telemetryLeaf{path: rel})
		in.index[rel] = i
	}
	if !keyed {
		in.root.insert(strings.Split(rel, "/"), i)
	}
	return i
}

// ingest records one notification of the subscription of generation gen;
// it reports false if that subscription has been replaced.
func (in *telemetryInstance) ingest(gen uint64, n *gpb.Notification, recv time.Time, observe func(TelemetryUpdate)) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.gen != gen {
		return false
	}
	in.lastHeard = recv
	in.notifications++
	pre := n.GetPrefix().GetElem()
	ts, rns := n.GetTimestamp(), recv.UnixNano()
	for _, u := range n.GetUpdate() {
		in.updates++
		in.coalesced += uint64(u.GetDuplicates())
		i := in.lookup(gnmiElems{pre, u.GetPath().GetElem()})
		if i < 0 {
			in.ignored++
			continue
		}
		l := &in.leaves[i]
		if !l.set(u.GetVal()) {
			in.ignored++
			continue
		}
		prev := l.ts
		l.ts, l.recv, l.present = ts, rns, true
		if observe != nil && !l.isStr {
			observe(TelemetryUpdate{Instance: in.target.Instance, Path: l.path, Value: l.num,
				Timestamp: time.Unix(0, ts), Previous: timeOrZero(prev), Received: recv})
		}
	}
	for _, d := range n.GetDelete() {
		in.deletes++
		in.remove(gnmiElems{pre, d.GetElem()})
	}
	return true
}

func timeOrZero(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

// remove marks the leaves at or beneath a deleted path as gone.
func (in *telemetryInstance) remove(e gnmiElems) {
	if !in.inInstance(e, e.len()) {
		return
	}
	if e.len() <= instanceStateDepth { // the instance itself, or its state
		for i := range in.leaves {
			in.leaves[i].present = false
		}
		return
	}
	rel := gnmiRelPath(e)
	for i := range in.leaves {
		if p := in.leaves[i].path; p == rel || strings.HasPrefix(p, rel+"/") {
			in.leaves[i].present = false
		}
	}
}

// set stores a scalar: numbers as float64, strings as they are. It
// reports false for values it cannot keep (JSON blobs, bytes, arrays).
func (l *telemetryLeaf) set(v *gpb.TypedValue) bool {
	switch x := v.GetValue().(type) {
	case *gpb.TypedValue_IntVal:
		l.num, l.isStr = float64(x.IntVal), false
	case *gpb.TypedValue_UintVal:
		l.num, l.isStr = float64(x.UintVal), false
	case *gpb.TypedValue_DoubleVal:
		l.num, l.isStr = x.DoubleVal, false
	case *gpb.TypedValue_BoolVal:
		l.num, l.isStr = 0, false
		if x.BoolVal {
			l.num = 1
		}
	case *gpb.TypedValue_StringVal:
		l.str, l.isStr = x.StringVal, true
	default:
		return false
	}
	return true
}

// streamUp, streamSynced and streamDown record the subscription's state;
// all ignore a replaced subscription. streamUp reports a reconnection.
func (in *telemetryInstance) streamUp(gen uint64) (reconnected bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.gen != gen {
		return false
	}
	in.connected = true
	in.established++
	return in.established > 1
}

func (in *telemetryInstance) streamSynced(gen uint64, recv time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.gen == gen {
		in.synced, in.lastHeard = true, recv
	}
}

func (in *telemetryInstance) streamDown(gen uint64, err error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.gen != gen {
		return
	}
	in.connected, in.synced = false, false
	in.errors++
	in.lastError = err.Error()
}

package userspace

// flowKey is struct flow of the XDP program: addresses as 16 bytes (IPv4
// mapped), ports in host order, the protocol.
type flowKey struct {
	src, dst     addr
	sport, dport uint16
	proto        uint8
}

// lru is a bounded connection table (flow -> backend index) evicting the
// least recently used entry; lookups and updates refresh an entry. Nodes
// live in a slice and link by index, so a steady table allocates nothing.
type lru struct {
	idx        map[flowKey]int32
	nodes      []lruNode
	head, tail int32 // most / least recently used, -1 when empty
	cap        int
}

type lruNode struct {
	key        flowKey
	val        uint32
	prev, next int32
}

func newLRU(capacity int) *lru {
	return &lru{idx: make(map[flowKey]int32), head: -1, tail: -1, cap: capacity}
}

func (l *lru) len() int { return len(l.idx) }

func (l *lru) unlink(i int32) {
	n := &l.nodes[i]
	if n.prev >= 0 {
		l.nodes[n.prev].next = n.next
	} else {
		l.head = n.next
	}
	if n.next >= 0 {
		l.nodes[n.next].prev = n.prev
	} else {
		l.tail = n.prev
	}
}

func (l *lru) pushFront(i int32) {
	n := &l.nodes[i]
	n.prev, n.next = -1, l.head
	if l.head >= 0 {
		l.nodes[l.head].prev = i
	}
	l.head = i
	if l.tail < 0 {
		l.tail = i
	}
}

// get returns the entry of k and makes it the most recent.
func (l *lru) get(k *flowKey) (uint32, bool) {
	i, ok := l.idx[*k]
	if !ok {
		return 0, false
	}
	if l.head != i {
		l.unlink(i)
		l.pushFront(i)
	}
	return l.nodes[i].val, true
}

// peek returns the entry of k without refreshing it.
func (l *lru) peek(k flowKey) (uint32, bool) {
	i, ok := l.idx[k]
	if !ok {
		return 0, false
	}
	return l.nodes[i].val, true
}

// put writes k -> v, evicting the least recent entry when full.
func (l *lru) put(k *flowKey, v uint32) {
	if i, ok := l.idx[*k]; ok {
		l.nodes[i].val = v
		if l.head != i {
			l.unlink(i)
			l.pushFront(i)
		}
		return
	}
	var i int32
	if len(l.idx) < l.cap {
		i = int32(len(l.nodes))
		l.nodes = append(l.nodes, lruNode{})
	} else {
		i = l.tail
		l.unlink(i)
		delete(l.idx, l.nodes[i].key)
	}
	l.nodes[i].key, l.nodes[i].val = *k, v
	l.idx[*k] = i
	l.pushFront(i)
}

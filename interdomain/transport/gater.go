package transport

import (
	"log/slog"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

var _ connmgr.ConnectionGater = (*gater)(nil)

// gater admits only configured peer IDs, on dial and once a connection's
// peer is authenticated. Its set is fixed at construction.
type gater struct {
	allowed map[peer.ID]bool
	refused atomic.Uint64
	log     *slog.Logger
}

func (g *gater) allow(dir string, p peer.ID) bool {
	if g.allowed[p] {
		return true
	}
	g.refused.Add(1)
	g.log.Debug("refused unconfigured peer", "peer", p, "direction", dir)
	return false
}

func (g *gater) InterceptPeerDial(p peer.ID) bool { return g.allow("dial", p) }

func (g *gater) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool { return g.allowed[p] }

// InterceptAccept lets the handshake run: the peer is not known yet.
func (g *gater) InterceptAccept(network.ConnMultiaddrs) bool { return true }

func (g *gater) InterceptSecured(d network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return g.allow(d.String(), p)
}

func (g *gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

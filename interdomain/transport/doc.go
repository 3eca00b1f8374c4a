// Package transport runs the inter-domain service routing protocol (package
// fsm) over go-libp2p: one Node per domain, one long-lived stream per
// neighbour.
//
// A Node is a libp2p host whose key is the domain's ed25519 identity (the key
// that also signs the routes the domain originates), secured with Noise over
// TCP. Only configured peers get through: a connection gater refuses, inbound
// and outbound, every peer ID that is not configured, and the connections to
// neighbours are protected from the connection manager's trimming.
//
// Streams. Each neighbour session runs on one stream of protocol
// wire.ProtocolID, opened by the side whose peer ID sorts lower; the other
// side only accepts, and resets a stream opened by a peer that should have
// waited. Two streams can therefore never be opened for one session, even
// when both domains start at once. If a new stream arrives while the old one
// still looks alive (the dialler restarted before we saw the old connection
// die), the new one replaces it and the session restarts on it. The dialling
// side redials a lost stream with exponential back-off and jitter.
//
// Identity. A stream is attributed to the domain configured for the peer ID
// that Noise authenticated, so the OPEN's domain id is checked by the fsm
// against that configured domain: a neighbour cannot speak for another
// domain. The public keys of neighbours are taken from their peer IDs (an
// ed25519 peer ID embeds its key) and verify the routes they originate;
// Config.Keys adds the keys of domains further away.
//
// Concurrency. One goroutine owns the fsm.Speaker and is its only caller. A
// reader goroutine per stream decodes frames (wire.ReadFrame), verifies the
// origin signatures of an UPDATE's announced routes, and hands the message
// with their verdicts to it (fsm.Speaker.ReceiveVerified), so the ed25519
// checks (~35 µs each) run in parallel, on at most GOMAXPROCS goroutines
// over all streams, and the stream's messages keep their order. The
// verdicts are made with the key store the Speaker uses (read-only, so
// Config.Keys must be safe for concurrent use); the Speaker's RIB still
// makes every other check, and refuses and counts a route whose signature
// failed as it would have itself. A writer goroutine per stream writes the
// frames the Speaker emits, in order, each with a write deadline, and closes
// the stream after the last one when the Speaker asks. The owner never
// blocks on the network, so a slow neighbour cannot stall the others. A
// timer is reset to the Speaker's NextDeadline after every input. A lost
// stream is reported to the Speaker with Disconnected, so that a
// neighbour's graceful restart keeps its routes as stale.
//
// Public methods (Announce, Withdraw, Routes, Peers, Subscribe...) are safe
// for concurrent use: they run as closures on the owning goroutine.
package transport

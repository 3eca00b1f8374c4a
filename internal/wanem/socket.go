package wanem

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// vnetHdrLen is the size of struct virtio_net_hdr, which PACKET_VNET_HDR
// puts before every frame.
const vnetHdrLen = 10

// maxFrame is the largest frame read. A GSO super-frame is up to 64 KiB of
// IP plus its Ethernet header, or more with BIG TCP; larger frames are
// counted as errors rather than forwarded truncated.
const maxFrame = vnetHdrLen + 256<<10

// packetConn is an AF_PACKET socket bound to one interface, registered with
// the runtime poller so that Close wakes blocked reads and writes.
//
// It uses PACKET_VNET_HDR: frames from a local stack on a veth often carry
// a partial checksum (CHECKSUM_PARTIAL) or are GSO super-frames larger than
// the MTU. Read as plain bytes they would leave with a bad checksum or fail
// with EMSGSIZE; with the virtio header passed through unchanged, the
// kernel finishes checksums and segmentation on the far side, as for a VM.
type packetConn struct {
	f  *os.File
	rc syscall.RawConn
}

// openPacket opens the socket on iface inside network namespace ns.
func openPacket(ns, iface string) (*packetConn, error) {
	var fd int
	err := inNetNS(ns, func() error {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			return fmt.Errorf("interface %q: %w", iface, err)
		}
		fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, int(htons(unix.ETH_P_ALL)))
		if err != nil {
			return fmt.Errorf("AF_PACKET socket: %w", err)
		}
		if err := setupPacket(fd, ifi.Index); err != nil {
			unix.Close(fd)
			return fmt.Errorf("interface %q: %w", iface, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "packet:"+iface)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("interface %q: %w", iface, err)
	}
	return &packetConn{f: f, rc: rc}, nil
}

func setupPacket(fd, ifindex int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1); err != nil {
		return fmt.Errorf("PACKET_VNET_HDR: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	// A membership, unlike IFF_PROMISC, is dropped by the kernel when the
	// socket closes: nothing is left behind, even after a crash.
	mreq := &unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, mreq); err != nil {
		return fmt.Errorf("promiscuous membership: %w", err)
	}
	return nil
}

// read returns the next frame received by the interface (virtio header
// included), or its full length if buf is too small (n > len(buf)),
// skipping frames the interface itself sent: those are our own
// writes (or the namespace's), and relaying them back would loop.
func (c *packetConn) read(buf []byte) (int, error) {
	var (
		n   int
		err error
	)
	rerr := c.rc.Read(func(fd uintptr) bool {
		for {
			var from unix.Sockaddr
			n, from, err = unix.Recvfrom(int(fd), buf, unix.MSG_TRUNC)
			if errors.Is(err, unix.EAGAIN) {
				return false
			}
			if err == nil {
				if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
					continue
				}
			}
			return true
		}
	})
	if rerr != nil {
		return 0, rerr
	}
	return n, err
}

// write sends one frame (virtio header included) out of the interface.
func (c *packetConn) write(frame []byte) error {
	var err error
	werr := c.rc.Write(func(fd uintptr) bool {
		_, err = unix.Write(int(fd), frame)
		return !errors.Is(err, unix.EAGAIN)
	})
	if werr != nil {
		return werr
	}
	return err
}

func (c *packetConn) Close() error { return c.f.Close() }

func htons(v uint16) uint16 { return v<<8 | v>>8 }

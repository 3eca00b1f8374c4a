package userspace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// maxFrame is the receive buffer: the largest frame a 64 KiB MTU (or
// GRO) can hand an AF_PACKET socket. Longer frames are left to the kernel.
const maxFrame = 65535 + ethLen + vlanLen

// Serve runs the data plane on interface ifindex until ctx ends, then
// returns nil. It reads every frame the interface receives from an
// AF_PACKET socket, runs it through Process, and sends TX frames back out
// of the interface and Redirect frames out of their egress interface.
//
// AF_PACKET taps frames, it does not take them: the kernel receives every
// frame too, so Pass and Drop need nothing here, and the network
// namespace must not forward IP (net.ipv4.ip_forward=0, the default), or
// the kernel would route the VIP's packets as well. A frame that cannot be
// sent (too large for the egress MTU, a full queue, an interface gone) is
// dropped, as the XDP program drops what it cannot transmit.
//
// Sockets are opened in the network namespace of the calling thread,
// egress ones on first use: call Serve from the namespace it serves (a
// goroutine locked to its thread, or a process started inside it).
func (d *Dataplane) Serve(ctx context.Context, ifindex int) error {
	in, err := openPacket(ifindex, unix.ETH_P_ALL)
	if err != nil {
		return fmt.Errorf("userspace: serve ifindex %d: %w", ifindex, err)
	}
	out := map[int]*packetConn{ifindex: in}
	defer func() {
		for _, c := range out {
			c.close()
		}
	}()
	// Unblock the read when ctx ends; the deadline is the poller's, so no
	// frame is lost to a race between a check and a blocking read.
	stop := context.AfterFunc(ctx, func() { _ = in.f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, maxFrame)
	for {
		n, pkttype, err := in.read(buf)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, unix.ENETDOWN):
			continue // the link went down; the socket resumes when it is up
		case err != nil:
			return fmt.Errorf("userspace: serve ifindex %d: read: %w", ifindex, err)
		case pkttype == unix.PACKET_OUTGOING || n > len(buf):
			continue // our own (and the kernel's) transmissions; truncated
		}
		v, frame := d.Process(buf[:n], ifindex)
		if v.Action != TX && v.Action != Redirect {
			continue
		}
		c := out[v.Egress]
		if c == nil {
			if c, err = openPacket(v.Egress, 0); err != nil {
				continue // no such interface (here): the devmap would drop too
			}
			out[v.Egress] = c
		}
		_ = c.write(frame)
	}
}

// packetConn is an AF_PACKET socket bound to one interface, on Go's
// poller (non-blocking, deadlines work).
type packetConn struct {
	f  *os.File
	rc syscall.RawConn
}

// openPacket binds a raw packet socket to ifindex. proto ETH_P_ALL
// receives every frame; 0 receives none (a socket to send with).
func openPacket(ifindex int, proto uint16) (*packetConn, error) {
	// Created with protocol 0, so that it receives nothing until bound to
	// the interface: no frame of another interface slips in between.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("AF_PACKET socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(proto), Ifindex: ifindex}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind AF_PACKET socket to ifindex %d: %w", ifindex, err)
	}
	f := os.NewFile(uintptr(fd), fmt.Sprintf("packet:%d", ifindex))
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &packetConn{f: f, rc: rc}, nil
}

// read receives one frame; n is its full length (more than len(buf) when
// it was truncated) and pkttype the kernel's PACKET_* class.
func (c *packetConn) read(buf []byte) (n int, pkttype uint8, err error) {
	rerr := c.rc.Read(func(fd uintptr) bool {
		var from unix.Sockaddr
		n, from, err = unix.Recvfrom(int(fd), buf, unix.MSG_TRUNC)
		if err == unix.EAGAIN || err == unix.EINTR {
			return false
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok {
			pkttype = ll.Pkttype
		}
		return true
	})
	return n, pkttype, errors.Join(rerr, err)
}

// write sends one frame out of the bound interface, without waiting: a
// full queue drops the frame (EAGAIN), as a full XDP TX ring does.
func (c *packetConn) write(frame []byte) error {
	var err error
	werr := c.rc.Write(func(fd uintptr) bool {
		_, err = unix.Write(int(fd), frame)
		return err != unix.EINTR
	})
	return errors.Join(werr, err)
}

func (c *packetConn) close() { c.f.Close() }

func htons(v uint16) uint16 { return v<<8 | v>>8 }

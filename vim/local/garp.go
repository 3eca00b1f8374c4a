package local

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/stitchnfv/stitch/internal/namedns"
)

// announce sends gratuitous ARPs for a new instance's address, from inside
// its namespace: at once, then twice a second apart, as RFC 5227 does
// (ANNOUNCE_NUM). Addresses are reused after an instance is deleted; without
// the announcement, neighbours (the site gateway, peers on the link) keep
// the old MAC and send to nowhere for many seconds. The repeats matter
// because a neighbour ignores ARP updates within a second of its entry's
// last change (its locktime).
//
// It runs in the background: closing a packet socket waits for an RCU grace
// period (synchronize_net), ~15 ms that would otherwise be added to every
// create.
func (d *Driver) announce(netnsName string, ifindex int, mac net.HardwareAddr, ip netip.Addr) {
	if !ip.Is4() {
		return
	}
	frame, err := garpFrame(mac, ip)
	if err != nil {
		d.log.Warn("gratuitous ARP", "err", err)
		return
	}
	d.watchers.Add(1)
	go func() {
		defer d.watchers.Done()
		for i := range 3 {
			if i > 0 {
				select {
				case <-d.stop:
					return
				case <-time.After(time.Second):
				}
			}
			ns, err := namedns.Open(netnsName)
			if err != nil {
				return // the instance is gone
			}
			err = sendFrame(ns, ifindex, frame)
			ns.Close()
			if err != nil {
				d.log.Debug("gratuitous ARP failed", "netns", netnsName, "err", err)
				return
			}
		}
	}()
}

// sendFrame transmits a raw Ethernet frame on an interface of ns.
func sendFrame(ns netns.NsHandle, ifindex int, frame []byte) error {
	return namedns.Do(ns, func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("gratuitous ARP: socket: %w", err)
		}
		defer unix.Close(fd)
		to := &unix.SockaddrLinklayer{Ifindex: ifindex, Halen: 6, Protocol: htons(unix.ETH_P_ARP)}
		copy(to.Addr[:], layers.EthernetBroadcast)
		if err := unix.Sendto(fd, frame, 0, to); err != nil {
			return fmt.Errorf("gratuitous ARP: send: %w", err)
		}
		return nil
	})
}

// garpFrame is an ARP request for ip from ip (RFC 5227's announcement).
func garpFrame(mac net.HardwareAddr, ip netip.Addr) ([]byte, error) {
	addr := ip.AsSlice()
	eth := &layers.Ethernet{SrcMAC: mac, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP}
	arp := &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
		HwAddressSize: 6, ProtAddressSize: 4, Operation: layers.ARPRequest,
		SourceHwAddress: mac, SourceProtAddress: addr,
		DstHwAddress: make([]byte, 6), DstProtAddress: addr,
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, eth, arp); err != nil {
		return nil, fmt.Errorf("gratuitous ARP: %w", err)
	}
	return buf.Bytes(), nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

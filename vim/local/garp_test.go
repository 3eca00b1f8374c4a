package local

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/stitchnfv/stitch/vim"
)

func TestGarpFrameIsAnAnnouncement(t *testing.T) {
	mac := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x42}
	frame, err := garpFrame(mac, netip.MustParseAddr("10.10.1.22"))
	if err != nil {
		t.Fatal(err)
	}
	p := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	arp, _ := p.Layer(layers.LayerTypeARP).(*layers.ARP)
	if eth == nil || arp == nil {
		t.Fatalf("not an Ethernet ARP frame: %v", p)
	}
	if !bytes.Equal(eth.DstMAC, layers.EthernetBroadcast) || !bytes.Equal(eth.SrcMAC, mac) {
		t.Errorf("ethernet %s → %s, want %s → broadcast", eth.SrcMAC, eth.DstMAC, mac)
	}
	want := []byte{10, 10, 1, 22}
	if arp.Operation != layers.ARPRequest || !bytes.Equal(arp.SourceProtAddress, want) ||
		!bytes.Equal(arp.DstProtAddress, want) || !bytes.Equal(arp.SourceHwAddress, mac) {
		t.Errorf("ARP %+v: want a request for 10.10.1.22 from 10.10.1.22 at %s", arp, mac)
	}
}

// An address freed by a deleted instance and given to a new one must be
// reachable at once: the site (and peers) still cache the old MAC, and the
// new instance's gratuitous ARP is what corrects them.
func TestReusedAddressIsReachableAtOnce(t *testing.T) {
	t.Parallel()
	echo := echoBinary(t)
	d := newDriver(t)
	ctx := context.Background()
	mustNetwork(t, d, "net1", "10.77.9.0/24", "a")
	spec := func(name string) vim.InstanceSpec {
		return vim.InstanceSpec{
			Name: name, Site: "a", Program: echo, Args: []string{"-listen", ":7000", "-reply", name},
			Ports: []vim.PortSpec{{Name: "cp0", Network: "net1", IP: "10.77.9.20"}},
		}
	}
	// Another instance keeps the link busy, as in a real service (a bridge
	// losing its last port flushes its neighbour entries, which would hide
	// the problem).
	mustCreate(t, d, sleeper("keeper", vim.PortSpec{Name: "cp0", Network: "net1"}))
	mustCreate(t, d, spec("first"))
	if g := readGreeting(t, d, "a", "tcp", "10.77.9.20:7000"); g != "first" {
		t.Fatalf("greeting %q, want first", g)
	}
	if err := d.DeleteInstance(ctx, "first", time.Second); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, d, spec("second"))
	// The gateway's address must not follow its ports (a bridge takes the
	// lowest port address unless one is set).
	d.mu.Lock()
	bridge := d.nets["net1"].rec.Bridge
	d.mu.Unlock()
	br, err := siteHandle(t, d.prefix, "a").LinkByName(bridge)
	if err != nil || !bytes.Equal(br.Attrs().HardwareAddr, bridgeMAC("a", bridge)) {
		t.Fatalf("bridge %s has address %v (%v), want its fixed %s", bridge, br, err, bridgeMAC("a", bridge))
	}
	deadline := time.Now().Add(5 * time.Second) // a stale entry would last 30 s and more
	for {
		dctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		c, err := d.DialContext(dctx, "a", "tcp", "10.77.9.20:7000")
		cancel()
		if err == nil {
			c.SetDeadline(time.Now().Add(time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.TrimSpace(line) == "second" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reused address is unreachable 5 s after the new instance started (stale neighbour entry): %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A Linux bridge takes 1,024 ports: past that, a create is refused as a
// capacity problem before anything is made.
func TestFullBridgeIsNoCapacity(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	mustNetwork(t, d, "net1", "10.77.10.0/24", "a")
	d.mu.Lock()
	d.nets["net1"].ports["a"] = maxBridgePorts
	d.mu.Unlock()
	_, err := d.CreateInstance(context.Background(), sleeper("one-too-many", vim.PortSpec{Name: "cp0", Network: "net1"}))
	if !errors.Is(err, vim.ErrNoCapacity) || !strings.Contains(err.Error(), "Linux bridge") {
		t.Fatalf("err = %v, want ErrNoCapacity naming the bridge limit", err)
	}
	if _, err := d.GetInstance(context.Background(), "one-too-many"); !errors.Is(err, vim.ErrNotFound) {
		t.Fatalf("refused instance exists: %v", err)
	}
	d.mu.Lock()
	d.nets["net1"].ports["a"] = 0
	d.mu.Unlock()
	requireNoLeaks(t, d)
}

package sysmetrics

import (
	"fmt"
	"net"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/stitchnfv/stitch/telemetry"
)

// interfaces lists links over netlink. A netlink socket lives in the network
// namespace of the process, unlike /sys/class/net, which shows the namespace
// sysfs was mounted in and so lies inside a namespace entered without
// remounting it.
func (c *Collector) interfaces() ([]telemetry.Op, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var ops []telemetry.Op
	seen := make(map[string]bool, len(links))
	for _, l := range links {
		a := l.Attrs()
		if c.filter != nil && !c.filter(a.Name) {
			continue
		}
		seen[a.Name] = true
		base := telemetry.Path{
			{Name: "interfaces"},
			{Name: "interface", Keys: map[string]string{"name": a.Name}},
			{Name: "state"},
		}.String()
		admin := "DOWN"
		if a.Flags&net.FlagUp != 0 {
			admin = "UP"
		}
		ops = append(ops,
			telemetry.SetOp(base+"/oper-status", operStatus(a.OperState)),
			telemetry.SetOp(base+"/admin-status", admin),
			telemetry.SetOp(base+"/mtu", uint64(a.MTU)),
		)
		if s := a.Statistics; s != nil {
			cnt := base + "/counters/"
			ops = append(ops,
				telemetry.SetOp(cnt+"in-octets", s.RxBytes),
				telemetry.SetOp(cnt+"in-pkts", s.RxPackets),
				telemetry.SetOp(cnt+"in-errors", s.RxErrors),
				telemetry.SetOp(cnt+"in-discards", s.RxDropped),
				telemetry.SetOp(cnt+"out-octets", s.TxBytes),
				telemetry.SetOp(cnt+"out-pkts", s.TxPackets),
				telemetry.SetOp(cnt+"out-errors", s.TxErrors),
				telemetry.SetOp(cnt+"out-discards", s.TxDropped),
			)
		}
	}
	for name := range c.published {
		if !seen[name] {
			ops = append(ops, telemetry.DeleteOp(telemetry.Path{
				{Name: "interfaces"},
				{Name: "interface", Keys: map[string]string{"name": name}},
			}.String()))
		}
	}
	c.published = seen
	return ops, nil
}

// operStatus maps RFC 2863 states to OpenConfig's oper-status enum.
func operStatus(s netlink.LinkOperState) string {
	return strings.ToUpper(strings.ReplaceAll(s.String(), "-", "_"))
}

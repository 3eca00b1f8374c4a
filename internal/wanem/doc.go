// Package wanem emulates a WAN link in userspace: delay, jitter, random loss
// and a rate limit, for kernels without tc netem (sch_netem is often not
// built, as on CI).
//
// The pure core is Scheduler: given a packet's size and arrival time it
// decides whether the packet is lost and when it departs. Relay runs two
// schedulers, one per direction, between two interfaces using AF_PACKET
// sockets, so the link stays layer 2: ARP, IPv6 and anything else pass.
//
// The intended topology is a dedicated namespace per WAN link holding two
// veth ends, one towards each site:
//
//	siteA[eth0] <-> [wanA | relay | wanB] <-> siteB[eth0]
//
//	r, err := wanem.Start(ctx, wanem.Config{
//		NetNS: "clab-lab-wan1", IfaceA: "wanA", IfaceB: "wanB",
//		AtoB: imp, BtoA: imp, Logger: log,
//	})
//	defer r.Close()
//
// A lab link's stitch.wan.* labels map as
//
//	wanem.Impairment{Delay: i.Delay, Jitter: i.Jitter,
//		Loss: i.LossPercent / 100, RateBps: i.RateBits}
//
// The relay's namespace needs nothing else: no addresses, no bridge, no
// routes. The interfaces must be up; the relay makes them promiscuous
// through a socket membership, which the kernel drops when the socket
// closes, so a crashed relay leaves no state behind.
package wanem

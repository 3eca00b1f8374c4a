// Package ovn renders stitch's view of an NS instance's network into the
// OVN northbound database through libovsdb: one logical switch per virtual
// link, one logical switch port with addresses and port security per
// connection point, and per microservice a port group whose to-lport ACLs
// allow what its descriptor exposes (allow-related, priority 2000) above a
// default drop of all other IP traffic (priority 1000).
//
// Ownership. Every row stitch writes carries external_ids
// stitch.owner=stitch, stitch.ns-instance=<NS id> and stitch.object=<its
// identity within the NS> ("switch/front", "port/web0", "group/web",
// "acl/..."). Render and Remove read, update and delete only rows carrying
// the first two, so another writer's rows — even on equal names — are never
// touched. Reference columns of our rows (a switch's ports, a group's ports
// and ACLs) are mutated, not overwritten, so what another writer attached
// to them stays. Names start with the NS id's first 12 hex digits to stay
// unique in NB and readable in ovn-nbctl output; identity is the tag, not
// the name.
//
// Reconcile. Render diffs the desired rows against the monitored cache and
// commits the difference in one transaction: new rows with named UUIDs,
// children before their parents, and non-root rows (ports, ACLs) removed by
// dropping their last reference so OVSDB garbage-collects them. It then waits
// until the cache shows the commit, so the next render plans from it. A
// render of unchanged input sends nothing.
//
// Chaining. A Router joins switches; its Policies are Logical_Router_Policy
// reroutes that walk a chain's traffic through the instances of each
// network function in order (identity "router/..", "rport/..", "rpeer/..",
// "policy/<router>/<priority>/<match>"). The design, and what OVN 23.03's
// stateless ECMP means for flows when instances change, is in
// docs/chaining.md.
//
// Sources. A Rule may admit only some sources: FromGroups become
// "ip4.src == $<port group>_ip4" (the address set northd derives from each
// port group, so it follows scale events without a render), FromCIDRs
// literal prefixes; both together form one set "{$a_ip4, 10.9.0.0/24}".
//
// Load balancers. A LoadBalancer is a Load_Balancer row (identity "lb/..",
// root, deleted explicitly; switches and routers refer to it weakly and
// only our references are mutated). OVN balances with ct_lb_mark, so a
// connection stays on its backend while backends change; a changed backend
// set is an update of the row's vips. A VIP in the subnet of a switch it
// applies on is answered for in ARP by options:arp_proxy on the router
// peer port there (OVN 23.03 answers ARP for no VIP of a switch's load
// balancer on its own), with the router port's MAC.
//
// Not here yet: pinning flows to an instance across scale events, routers
// for links spanning sites, and chassis binding.
package ovn

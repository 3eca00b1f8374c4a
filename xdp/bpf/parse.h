// Header parsing: every access bounds-checked; see ../doc.go for the rules.
#pragma once

// Parses L4 at l4 (a packet pointer the caller took from data + constant).
// Returns 0 on success, -1 when the header is cut short.
static __always_inline int parse_l4(void *l4, void *end, struct pkt *p, __u32 l4_room)
{
	if (p->flow.proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;
		if ((void *)(th + 1) > end || l4_room < sizeof(*th))
			return -1;
		__u32 doff = th->doff * 4;
		if (doff < sizeof(*th) || doff > l4_room)
			return -1;
		p->flow.sport = bpf_ntohs(th->source);
		p->flow.dport = bpf_ntohs(th->dest);
		p->tcp_flags = ((__u8 *)th)[13];
		p->seq = th->seq;
		p->ack = th->ack_seq;
		p->l4_len = l4_room - doff;
		return 0;
	}
	struct udphdr *uh = l4;
	if ((void *)(uh + 1) > end || l4_room < sizeof(*uh))
		return -1;
	p->flow.sport = bpf_ntohs(uh->source);
	p->flow.dport = bpf_ntohs(uh->dest);
	return 0;
}

// Returns 0 when p describes a TCP/UDP packet worth a VIP lookup, else the
// XDP verdict (XDP_PASS).
static __always_inline int parse_v4(void *data, void *end, __u32 off, struct pkt *p)
{
	struct iphdr *iph = data + off;
	if ((void *)(iph + 1) > end) {
		count(STAT_TRUNCATED);
		return XDP_PASS;
	}
	if (iph->version != 4 || iph->ihl < 5)
		return XDP_PASS;
	p->family = FAMILY_V4;
	p->flow.src.w[2] = bpf_htonl(0xffff);
	p->flow.src.w[3] = iph->saddr;
	p->flow.dst.w[2] = bpf_htonl(0xffff);
	p->flow.dst.w[3] = iph->daddr;
	if (iph->ihl != 5 || (iph->frag_off & bpf_htons(IP_MF_OFFSET))) {
		if (is_vip_addr(&p->flow.dst))
			count(STAT_OPTS_FRAGS);
		return XDP_PASS;
	}
	if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP)
		return XDP_PASS;
	p->flow.proto = iph->protocol;
	p->tos = iph->tos;
	__u32 tot = bpf_ntohs(iph->tot_len);
	if (tot < sizeof(*iph) || data + off + tot > end) {
		count(STAT_TRUNCATED);
		return XDP_PASS;
	}
	p->l3_len = tot;
	if (parse_l4(iph + 1, end, p, tot - sizeof(*iph))) {
		count(STAT_TRUNCATED);
		return XDP_PASS;
	}
	return 0;
}

static __always_inline int is_ext_header(__u8 nh)
{
	switch (nh) {
	case 0:   // hop-by-hop
	case 43:  // routing
	case 44:  // fragment
	case 50:  // ESP
	case 51:  // AH
	case 60:  // destination options
	case 135: // mobility
	case 139: // HIP
	case 140: // shim6
		return 1;
	}
	return 0;
}

static __always_inline int is_v4_mapped(struct in6_addr *a)
{
	return a->in6_u.u6_addr32[0] == 0 && a->in6_u.u6_addr32[1] == 0 &&
	       a->in6_u.u6_addr32[2] == bpf_htonl(0xffff);
}

static __always_inline int parse_v6(void *data, void *end, __u32 off, struct pkt *p)
{
	struct ipv6hdr *ip6 = data + off;
	if ((void *)(ip6 + 1) > end) {
		count(STAT_TRUNCATED);
		return XDP_PASS;
	}
	if (ip6->version != 6)
		return XDP_PASS;
	// IPv4-mapped addresses (::ffff:0:0/96) never appear on the wire (RFC
	// 4291 2.5.5.2), and VIP keys hold IPv4 VIPs in that form: such a
	// packet would be taken for IPv4 VIP traffic and share its flows.
	if (is_v4_mapped(&ip6->daddr) || is_v4_mapped(&ip6->saddr))
		return XDP_PASS;
	p->family = FAMILY_V6;
	__builtin_memcpy(&p->flow.src, &ip6->saddr, 16);
	__builtin_memcpy(&p->flow.dst, &ip6->daddr, 16);
	if (ip6->nexthdr != IPPROTO_TCP && ip6->nexthdr != IPPROTO_UDP) {
		if (is_ext_header(ip6->nexthdr) && is_vip_addr(&p->flow.dst))
			count(STAT_V6_EXT);
		return XDP_PASS;
	}
	p->flow.proto = ip6->nexthdr;
	p->tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
	__u32 plen = bpf_ntohs(ip6->payload_len);
	if (data + off + sizeof(*ip6) + plen > end) {
		count(STAT_TRUNCATED);
		return XDP_PASS;
	}
	p->l3_len = plen + sizeof(*ip6);
	if (parse_l4(ip6 + 1, end, p, plen)) {
		count(STAT_TRUNCATED);
		return XDP_PASS;
	}
	return 0;
}

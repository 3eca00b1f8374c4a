// Refusals answered in place: TCP RST, ICMP/ICMPv6 port unreachable.
#pragma once

// Turns a TCP segment into the RST that refuses it (RFC 9293 3.10.7.1):
// with ACK set, <SEQ=SEG.ACK><CTL=RST>; otherwise
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Options and payload are cut.
static __always_inline int tcp_reset(struct xdp_md *ctx, struct pkt *p)
{
	if (p->tcp_flags & TCPF_RST)
		return XDP_DROP;
	__u32 seq, ack = 0;
	__u8 flags;
	if (p->tcp_flags & TCPF_ACK) {
		seq = p->ack;
		flags = TCPF_RST;
	} else {
		__u32 len = p->l4_len;
		if (p->tcp_flags & TCPF_SYN)
			len++;
		if (p->tcp_flags & TCPF_FIN)
			len++;
		seq = 0;
		ack = bpf_htonl(bpf_ntohl(p->seq) + len);
		flags = TCPF_RST | TCPF_ACK;
	}
	__u32 l3 = sizeof(struct ethhdr) + (p->vlan ? sizeof(struct vlan_hdr) : 0);
	__u32 l3hdr = p->family == FAMILY_V4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	int newlen = l3 + l3hdr + sizeof(struct tcphdr);
	int cur = ctx->data_end - ctx->data;
	if (cur > newlen && bpf_xdp_adjust_tail(ctx, newlen - cur))
		return XDP_DROP;

	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	__u8 tmp[ETH_ALEN];
	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);

	struct tcphdr *th;
	__s64 sum;
	if (p->family == FAMILY_V4) {
		struct iphdr *iph = data + sizeof(struct ethhdr);
		if (p->vlan)
			iph = data + sizeof(struct ethhdr) + sizeof(struct vlan_hdr);
		th = (void *)(iph + 1);
		if ((void *)(th + 1) > end)
			return XDP_DROP;
		__u32 a = iph->saddr;
		iph->saddr = iph->daddr;
		iph->daddr = a;
		iph->tos = 0;
		iph->tot_len = bpf_htons(sizeof(*iph) + sizeof(*th));
		iph->id = 0;
		iph->frag_off = bpf_htons(IP_DF);
		iph->ttl = 64;
		iph->check = 0;
		iph->check = csum_fold(bpf_csum_diff(0, 0, (__be32 *)iph, sizeof(*iph), 0));
		struct {
			__u32 s, d;
			__u8 zero, proto;
			__u16 len;
		} ph = {iph->saddr, iph->daddr, 0, IPPROTO_TCP, bpf_htons(sizeof(*th))};
		sum = bpf_csum_diff(0, 0, (__be32 *)&ph, sizeof(ph), 0);
	} else {
		struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);
		if (p->vlan)
			ip6 = data + sizeof(struct ethhdr) + sizeof(struct vlan_hdr);
		th = (void *)(ip6 + 1);
		if ((void *)(th + 1) > end)
			return XDP_DROP;
		struct {
			struct addr s, d;
			__u32 len, nh;
		} ph;
		__builtin_memcpy(&ph.s, &ip6->daddr, 16);
		__builtin_memcpy(&ph.d, &ip6->saddr, 16);
		ph.len = bpf_htonl(sizeof(*th));
		ph.nh = bpf_htonl(IPPROTO_TCP);
		__builtin_memcpy(&ip6->saddr, &ph.s, 16);
		__builtin_memcpy(&ip6->daddr, &ph.d, 16);
		ip6->priority = 0;
		ip6->flow_lbl[0] = 0;
		ip6->flow_lbl[1] = 0;
		ip6->flow_lbl[2] = 0;
		ip6->payload_len = bpf_htons(sizeof(*th));
		ip6->hop_limit = 64;
		sum = bpf_csum_diff(0, 0, (__be32 *)&ph, sizeof(ph), 0);
	}
	__u16 port = th->source;
	th->source = th->dest;
	th->dest = port;
	th->seq = seq;
	th->ack_seq = ack;
	((__u8 *)th)[12] = 5 << 4; // doff = 5, no reserved bits
	((__u8 *)th)[13] = flags;
	th->window = 0;
	th->check = 0;
	th->urg_ptr = 0;
	th->check = csum_fold(bpf_csum_diff(0, 0, (__be32 *)th, sizeof(*th), sum));
	return XDP_TX;
}

#define ICMP4_QUOTE (sizeof(struct iphdr) + sizeof(struct udphdr))
#define ICMP4_GROW (sizeof(struct iphdr) + 8)
#define ICMP6_QUOTE (sizeof(struct ipv6hdr) + sizeof(struct udphdr))
#define ICMP6_GROW (sizeof(struct ipv6hdr) + 8)

// Writes the swapped L2 header at data from the original one at
// data + grow. vlan selects a constant-size copy for the verifier.
#define PUT_L2(data, end, vlan, grow, ret)                                          \
	do {                                                                        \
		struct ethhdr *_new = data;                                         \
		struct ethhdr *_old = data + (grow);                                \
		if ((void *)(_old + 1) + sizeof(struct vlan_hdr) > end)             \
			return ret;                                                 \
		__u8 _mac[ETH_ALEN];                                                \
		__builtin_memcpy(_mac, _old->h_source, ETH_ALEN);                   \
		__builtin_memcpy(_new->h_source, _old->h_dest, ETH_ALEN);           \
		__builtin_memcpy(_new->h_dest, _mac, ETH_ALEN);                     \
		if (vlan)                                                           \
			__builtin_memcpy((void *)(_new + 1) - 2, (void *)(_old + 1) - 2, \
					 2 + sizeof(struct vlan_hdr));              \
		else                                                                \
			_new->h_proto = _old->h_proto;                              \
	} while (0)

// Answers a refused UDP datagram with ICMP port unreachable (type 3 code 3)
// from the VIP, quoting the IP and UDP headers.
static __always_inline int icmp4_unreach(struct xdp_md *ctx, struct pkt *p)
{
	__u32 l3 = sizeof(struct ethhdr) + (p->vlan ? sizeof(struct vlan_hdr) : 0);
	if (bpf_xdp_adjust_head(ctx, -(int)ICMP4_GROW))
		return XDP_DROP;
	int newlen = l3 + ICMP4_GROW + ICMP4_QUOTE;
	int cur = ctx->data_end - ctx->data;
	if (cur > newlen && bpf_xdp_adjust_tail(ctx, newlen - cur))
		return XDP_DROP;
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	PUT_L2(data, end, p->vlan, ICMP4_GROW, XDP_DROP);
	struct iphdr *iph = data + sizeof(struct ethhdr);
	if (p->vlan)
		iph = data + sizeof(struct ethhdr) + sizeof(struct vlan_hdr);
	__u8 *icmp = (void *)(iph + 1);
	struct iphdr *orig = (void *)(icmp + 8);
	if ((void *)orig + ICMP4_QUOTE > end)
		return XDP_DROP;
	iph->version = 4;
	iph->ihl = 5;
	iph->tos = 0;
	iph->tot_len = bpf_htons(ICMP4_GROW + ICMP4_QUOTE);
	iph->id = 0;
	iph->frag_off = 0;
	iph->ttl = 64;
	iph->protocol = IPPROTO_ICMP;
	iph->saddr = orig->daddr;
	iph->daddr = orig->saddr;
	iph->check = 0;
	iph->check = ip4_csum(iph);
	__builtin_memset(icmp, 0, 8);
	icmp[0] = 3; // destination unreachable
	icmp[1] = 3; // port unreachable
	*(__u16 *)(icmp + 2) = csum_fold(bpf_csum_diff(0, 0, (__be32 *)icmp, 8 + ICMP4_QUOTE, 0));
	return XDP_TX;
}

// ICMPv6 port unreachable (type 1 code 4) from the VIP, quoting the IPv6 and
// UDP headers.
static __always_inline int icmp6_unreach(struct xdp_md *ctx, struct pkt *p)
{
	__u32 l3 = sizeof(struct ethhdr) + (p->vlan ? sizeof(struct vlan_hdr) : 0);
	if (bpf_xdp_adjust_head(ctx, -(int)ICMP6_GROW))
		return XDP_DROP;
	int newlen = l3 + ICMP6_GROW + ICMP6_QUOTE;
	int cur = ctx->data_end - ctx->data;
	if (cur > newlen && bpf_xdp_adjust_tail(ctx, newlen - cur))
		return XDP_DROP;
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	PUT_L2(data, end, p->vlan, ICMP6_GROW, XDP_DROP);
	struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);
	if (p->vlan)
		ip6 = data + sizeof(struct ethhdr) + sizeof(struct vlan_hdr);
	__u8 *icmp = (void *)(ip6 + 1);
	struct ipv6hdr *orig = (void *)(icmp + 8);
	if ((void *)orig + ICMP6_QUOTE > end)
		return XDP_DROP;
	struct {
		struct addr s, d;
		__u32 len, nh;
	} ph;
	__builtin_memcpy(&ph.s, &orig->daddr, 16);
	__builtin_memcpy(&ph.d, &orig->saddr, 16);
	ph.len = bpf_htonl(8 + ICMP6_QUOTE);
	ph.nh = bpf_htonl(IPPROTO_ICMPV6);
	*(__u32 *)ip6 = bpf_htonl(6 << 28);
	ip6->payload_len = bpf_htons(8 + ICMP6_QUOTE);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = 64;
	__builtin_memcpy(&ip6->saddr, &ph.s, 16);
	__builtin_memcpy(&ip6->daddr, &ph.d, 16);
	__builtin_memset(icmp, 0, 8);
	icmp[0] = 1; // destination unreachable
	icmp[1] = 4; // port unreachable
	__s64 sum = bpf_csum_diff(0, 0, (__be32 *)&ph, sizeof(ph), 0);
	*(__u16 *)(icmp + 2) = csum_fold(bpf_csum_diff(0, 0, (__be32 *)icmp, 8 + ICMP6_QUOTE, sum));
	return XDP_TX;
}

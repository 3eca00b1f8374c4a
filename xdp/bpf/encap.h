// IPIP / IPv6 encapsulation towards a backend, XDP_TX or XDP_REDIRECT.
#pragma once

// Writes the outer Ethernet header. Out of the ingress interface the source
// is the frame's original destination (our own MAC); through another
// interface, that interface's MAC when known.
static __always_inline void write_eth(struct ethhdr *eth, struct backend *be, int tx,
				      __u32 egress, __u8 *orig_dst, __u16 proto)
{
	struct mac *m = NULL;
	if (!tx)
		m = bpf_map_lookup_elem(&if_macs, &egress);
	if (m)
		__builtin_memcpy(eth->h_source, m->addr, ETH_ALEN);
	else
		__builtin_memcpy(eth->h_source, orig_dst, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, be->mac, ETH_ALEN);
	eth->h_proto = bpf_htons(proto);
}

static __always_inline int encap(struct xdp_md *ctx, struct pkt *p, struct backend *be)
{
	__u32 zero = 0;
	struct router_config *cfg = bpf_map_lookup_elem(&config_map, &zero);
	if (!cfg)
		return XDP_DROP;
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *old = data;
	if ((void *)(old + 1) > end)
		return XDP_DROP;
	__u8 orig_dst[ETH_ALEN];
	__builtin_memcpy(orig_dst, old->h_dest, ETH_ALEN);
	__u8 inner = p->family == FAMILY_V4 ? IPPROTO_IPIP : IPPROTO_IPV6;
	__u32 egress = be->ifindex ? be->ifindex : ctx->ingress_ifindex;
	int tx = egress == ctx->ingress_ifindex;
	int vlan = p->vlan ? sizeof(struct vlan_hdr) : 0;

	if (be->family == FAMILY_V4) {
		if (bpf_xdp_adjust_head(ctx, vlan - (int)sizeof(struct iphdr)))
			goto err;
		data = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
		struct ethhdr *eth = data;
		struct iphdr *iph = (void *)(eth + 1);
		if ((void *)(iph + 1) > end)
			goto err;
		write_eth(eth, be, tx, egress, orig_dst, ETH_P_IP);
		iph->version = 4;
		iph->ihl = 5;
		iph->tos = p->tos;
		iph->tot_len = bpf_htons(p->l3_len + sizeof(*iph));
		iph->id = 0;
		iph->frag_off = 0;
		iph->ttl = 64;
		iph->protocol = inner;
		iph->check = 0;
		iph->saddr = cfg->src4;
		iph->daddr = be->addr.w[3];
		iph->check = ip4_csum(iph);
	} else {
		if (bpf_xdp_adjust_head(ctx, vlan - (int)sizeof(struct ipv6hdr)))
			goto err;
		data = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
		struct ethhdr *eth = data;
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > end)
			goto err;
		write_eth(eth, be, tx, egress, orig_dst, ETH_P_IPV6);
		ip6->version = 6;
		ip6->priority = p->tos >> 4;
		ip6->flow_lbl[0] = (p->tos & 0xf) << 4;
		ip6->flow_lbl[1] = 0;
		ip6->flow_lbl[2] = 0;
		ip6->payload_len = bpf_htons(p->l3_len);
		ip6->nexthdr = inner;
		ip6->hop_limit = 64;
		__builtin_memcpy(&ip6->saddr, &cfg->src6, 16);
		__builtin_memcpy(&ip6->daddr, &be->addr, 16);
	}
	if (tx)
		return XDP_TX;
	return bpf_redirect_map(&tx_ports, egress, XDP_DROP);
err:
	count(STAT_ENCAP_ERR);
	return XDP_DROP;
}

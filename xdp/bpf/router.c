//go:build ignore

// XDP anycast service router: VIP lookup, connection table, Maglev table,
// IPIP/IPv6 encapsulation towards the backend (direct server return), TCP
// RST or ICMP unreachable when no backend is left. The rules are documented
// in ../doc.go; the pieces are in the headers included below.

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "flowhash.h"

char __license[] SEC("license") = "Dual MIT/GPL";

#include "maps.h"
#include "common.h"
#include "parse.h"
#include "encap.h"
#include "reply.h"

SEC("xdp")
int xdp_router(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct pkt p = {};
	int verdict;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	__u16 proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_hdr *vh = (void *)(eth + 1);
		if ((void *)(vh + 1) > end) {
			count(STAT_TRUNCATED);
			return XDP_PASS;
		}
		proto = vh->proto;
		p.vlan = 1;
	}
	__u32 off = p.vlan ? sizeof(struct ethhdr) + sizeof(struct vlan_hdr) : sizeof(struct ethhdr);
	if (proto == bpf_htons(ETH_P_IP))
		verdict = parse_v4(data, end, off, &p);
	else if (proto == bpf_htons(ETH_P_IPV6))
		verdict = parse_v6(data, end, off, &p);
	else
		return XDP_PASS;
	if (verdict)
		return verdict;

	struct vip_key vk = {};
	vk.addr = p.flow.dst;
	vk.port = p.flow.dport;
	vk.proto = p.flow.proto;
	struct vip_meta *vip = bpf_map_lookup_elem(&vips, &vk);
	if (!vip)
		return XDP_PASS;

	__u64 bytes = end - data;
	__u32 vip_id = vip->vip_id;
	struct counters *vc = bpf_map_lookup_elem(&vip_stats, &vip_id);
	int syn = (p.tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN;
	int is_tcp = p.flow.proto == IPPROTO_TCP;
	int use_conns = !(vip->flags & VIP_F_LRU_BYPASS);
	struct backend *be;
	__u32 idx;

	// Established flows keep their backend; a SYN always starts afresh.
	if (use_conns && !(is_tcp && syn)) {
		__u32 *c = bpf_map_lookup_elem(&conns, &p.flow);
		if (c) {
			idx = *c;
			be = bpf_map_lookup_elem(&backends, &idx);
			if (be && be->family) {
				add(vc, bytes, 0, 0);
				add(bpf_map_lookup_elem(&backend_stats, &idx), bytes, 0, 0);
				return encap(ctx, &p, be);
			}
		}
	}

	idx = NO_BACKEND;
	__u32 *gen = bpf_map_lookup_elem(&table_gen, &vip_id);
	__u32 table = vip_id * 2 + (gen ? (*gen & 1) : 0);
	void *ring = bpf_map_lookup_elem(&maglev, &table);
	if (ring) {
		__u32 slot = flow_hash(&p.flow) % RING_SIZE;
		__u32 *b = bpf_map_lookup_elem(ring, &slot);
		if (b)
			idx = *b;
	}
	be = NULL;
	if (idx != NO_BACKEND)
		be = bpf_map_lookup_elem(&backends, &idx);
	if (!be || !be->family) {
		idx = vip->fallback;
		be = NULL;
		if (idx != NO_BACKEND)
			be = bpf_map_lookup_elem(&backends, &idx);
	}
	if (!be || !be->family) {
		add(vc, bytes, 0, 1);
		if (is_tcp)
			return tcp_reset(ctx, &p);
		if (vip->flags & VIP_F_ICMP_UNREACH)
			return p.family == FAMILY_V4 ? icmp4_unreach(ctx, &p) : icmp6_unreach(ctx, &p);
		return XDP_DROP;
	}
	int new_flow = use_conns && (!is_tcp || syn);
	if (new_flow)
		bpf_map_update_elem(&conns, &p.flow, &idx, BPF_ANY);
	add(vc, bytes, new_flow, 0);
	add(bpf_map_lookup_elem(&backend_stats, &idx), bytes, new_flow, 0);
	return encap(ctx, &p, be);
}

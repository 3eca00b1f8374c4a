//go:build ignore

// Decapsulation on a service instance: the service router (../../bpf)
// sends new sessions to an instance inside an outer IPv4 (protocol 4 or 41)
// or IPv6 (next header 4 or 41) header, and this kernel has no ipip or
// ip6tnl device. The program strips the outer header of tunnel packets from
// a known router and passes the inner packet (VIP as destination) to the
// stack; tunnel packets from anyone else are dropped and counted, so no one
// can slip packets past the instance's filters by wrapping them.

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char __license[] SEC("license") = "Dual MIT/GPL";

// Router addresses, 16 bytes, IPv4 as ::ffff:a.b.c.d.
struct addr {
	__u8 b[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct addr);
	__type(value, __u8);
} routers SEC(".maps");

// Counters: [0] decapsulated, [1] dropped (tunnel from an unknown source).
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &which);
	if (v)
		(*v)++;
}

static __always_inline __u16 inner_proto(__u8 proto)
{
	if (proto == IPPROTO_IPIP)
		return ETH_P_IP;
	if (proto == IPPROTO_IPV6)
		return ETH_P_IPV6;
	return 0;
}

SEC("xdp")
int decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	struct addr src = {};
	__u16 inner;
	int outer;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);
		if ((void *)(iph + 1) > end || iph->ihl != 5)
			return XDP_PASS;
		inner = inner_proto(iph->protocol);
		if (!inner)
			return XDP_PASS;
		src.b[10] = 0xff;
		src.b[11] = 0xff;
		__builtin_memcpy(&src.b[12], &iph->saddr, 4);
		outer = sizeof(struct iphdr);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > end)
			return XDP_PASS;
		inner = inner_proto(ip6->nexthdr);
		if (!inner)
			return XDP_PASS;
		__builtin_memcpy(&src, &ip6->saddr, 16);
		outer = sizeof(struct ipv6hdr);
	} else {
		return XDP_PASS;
	}
	if (!bpf_map_lookup_elem(&routers, &src)) {
		count(1);
		return XDP_DROP;
	}
	struct ethhdr copy = *eth;
	if (bpf_xdp_adjust_head(ctx, outer))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, copy.h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_source, copy.h_source, ETH_ALEN);
	eth->h_proto = bpf_htons(inner);
	count(0);
	return XDP_PASS;
}

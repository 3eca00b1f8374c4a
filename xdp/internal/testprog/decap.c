//go:build ignore

// Test program for the live test's backends (this kernel has no ipip
// device): strips an outer IPv4 header of protocol 4 (IPIP) or 41 (IPv6
// inside) addressed to anyone and passes the inner packet to the stack.

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char __license[] SEC("license") = "Dual MIT/GPL";

SEC("xdp")
int decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || iph->ihl != 5)
		return XDP_PASS;
	__u16 inner;
	if (iph->protocol == IPPROTO_IPIP)
		inner = ETH_P_IP;
	else if (iph->protocol == IPPROTO_IPV6)
		inner = ETH_P_IPV6;
	else
		return XDP_PASS;
	struct ethhdr copy = *eth;
	if (bpf_xdp_adjust_head(ctx, sizeof(struct iphdr)))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, copy.h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_source, copy.h_source, ETH_ALEN);
	eth->h_proto = bpf_htons(inner);
	return XDP_PASS;
}

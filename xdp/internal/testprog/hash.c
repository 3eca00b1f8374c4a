//go:build ignore

// Test program: computes flow_hash (the router's own code, from
// flowhash.h) for every flow in flows_in, so the Go twin can be compared.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "../../bpf/flowhash.h"

char __license[] SEC("license") = "Dual MIT/GPL";

#define N 4096

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, N);
	__type(key, __u32);
	__type(value, struct flow);
} flows_in SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, N);
	__type(key, __u32);
	__type(value, __u32);
} hashes_out SEC(".maps");

static long hash_one(__u32 i, void *unused)
{
	struct flow *f = bpf_map_lookup_elem(&flows_in, &i);
	if (!f)
		return 1;
	__u32 h = flow_hash(f);
	bpf_map_update_elem(&hashes_out, &i, &h, BPF_ANY);
	return 0;
}

SEC("xdp")
int hash_flows(struct xdp_md *ctx)
{
	bpf_loop(N, hash_one, NULL, 0);
	return XDP_PASS;
}

//go:build ignore

// Benchmark harness. BPF_PROG_TEST_RUN does not restore the packet between
// repetitions, so a program that rewrites it (the router encapsulates)
// would see its own output on the next round. restore_and_call puts the
// original 64-byte frame back (undoing a head adjustment) and tail-calls
// the program under test; pass is the trivial program, called directly for
// the floor or through restore_and_call to measure the harness itself.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char __license[] SEC("license") = "Dual MIT/GPL";

#define FRAME 64

struct frame {
	__u64 w[FRAME / 8];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct frame);
} frame SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

SEC("xdp")
int restore_and_call(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct frame *f = bpf_map_lookup_elem(&frame, &zero);
	if (!f)
		return XDP_ABORTED;
	int cur = ctx->data_end - ctx->data;
	if (cur != FRAME && bpf_xdp_adjust_head(ctx, cur - FRAME))
		return XDP_ABORTED;
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	if (data + FRAME > end)
		return XDP_ABORTED;
	__u64 *p = data;
#pragma unroll
	for (int i = 0; i < FRAME / 8; i++)
		p[i] = f->w[i];
	bpf_tail_call(ctx, &target, 0);
	return XDP_ABORTED;
}

SEC("xdp")
int pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

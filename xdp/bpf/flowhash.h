// Flow key and flow hash, shared by router.c and the test programs.
#pragma once

#include <linux/types.h>
#include <bpf/bpf_endian.h>

#define JHASH_INITVAL 0xdeadbeef
#define FLOW_HASH_SEED 0x5717c4u

// Addresses are 16 bytes in network order (IPv4 as ::ffff:a.b.c.d), held as
// four words so that the stack copies stay 4-byte aligned.
struct addr {
	__u32 w[4];
};

struct flow {
	struct addr src;
	struct addr dst;
	__u16 sport; // host order
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

static __always_inline __u32 rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

#define jhash_mix(a, b, c)                      \
	{                                       \
		a -= c; a ^= rol32(c, 4); c += b;  \
		b -= a; b ^= rol32(a, 6); a += c;  \
		c -= b; c ^= rol32(b, 8); b += a;  \
		a -= c; a ^= rol32(c, 16); c += b; \
		b -= a; b ^= rol32(a, 19); a += c; \
		c -= b; c ^= rol32(b, 4); b += a;  \
	}

#define jhash_final(a, b, c)                \
	{                                   \
		c ^= b; c -= rol32(b, 14);  \
		a ^= c; a -= rol32(c, 11);  \
		b ^= a; b -= rol32(a, 25);  \
		c ^= b; c -= rol32(b, 16);  \
		a ^= c; a -= rol32(c, 4);   \
		b ^= a; b -= rol32(a, 14);  \
		c ^= b; c -= rol32(b, 24);  \
	}

// flow_hash is the Linux jhash2 over nine 32-bit words: the source address
// (4 words, big-endian), the destination address (4 words), and
// sport<<16|dport; initval = FLOW_HASH_SEED ^ proto. xdp.FlowHash is its
// Go twin.
static __always_inline __u32 flow_hash(struct flow *f)
{
	__u32 a, b, c;
	a = b = c = JHASH_INITVAL + (9 << 2) + (FLOW_HASH_SEED ^ f->proto);
	a += bpf_ntohl(f->src.w[0]);
	b += bpf_ntohl(f->src.w[1]);
	c += bpf_ntohl(f->src.w[2]);
	jhash_mix(a, b, c);
	a += bpf_ntohl(f->src.w[3]);
	b += bpf_ntohl(f->dst.w[0]);
	c += bpf_ntohl(f->dst.w[1]);
	jhash_mix(a, b, c);
	a += bpf_ntohl(f->dst.w[2]);
	b += bpf_ntohl(f->dst.w[3]);
	c += ((__u32)f->sport << 16) | f->dport;
	jhash_final(a, b, c);
	return c;
}


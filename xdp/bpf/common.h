// Parsed-packet state, counters and checksum helpers.
#pragma once

// Parsed packet, everything the decision and the rewrite need.
struct pkt {
	struct flow flow;
	__u32 l3_len; // IP total length (header + payload)
	__u32 seq;    // TCP, network order
	__u32 ack;
	__u16 l4_len; // TCP payload length
	__u8 tcp_flags;
	__u8 tos;
	__u8 family;
	__u8 vlan;
};

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_ACK 0x10

enum {
	STAT_OPTS_FRAGS,
	STAT_V6_EXT,
	STAT_TRUNCATED,
	STAT_ENCAP_ERR,
};

static __always_inline void count(int which)
{
	__u32 zero = 0;
	struct global_stats *s = bpf_map_lookup_elem(&stats, &zero);
	if (!s)
		return;
	switch (which) {
	case STAT_OPTS_FRAGS:
		s->options_or_fragments++;
		break;
	case STAT_V6_EXT:
		s->ipv6_ext_headers++;
		break;
	case STAT_TRUNCATED:
		s->truncated++;
		break;
	case STAT_ENCAP_ERR:
		s->encap_errors++;
		break;
	}
}

static __always_inline int is_vip_addr(struct addr *a)
{
	return bpf_map_lookup_elem(&vip_addrs, a) != NULL;
}

static __always_inline __u16 csum_fold(__s64 sum)
{
	__u64 s = (__u64)sum;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static __always_inline void add(struct counters *c, __u64 bytes, int new_flow, int refused)
{
	if (!c)
		return;
	c->packets++;
	c->bytes += bytes;
	c->new_flows += new_flow;
	c->refused += refused;
}

// IPv4 header checksum of an option-less header, inline (cheaper than the
// bpf_csum_diff helper call on the hot path).
static __always_inline __u16 ip4_csum(struct iphdr *iph)
{
	__u16 *w = (__u16 *)iph;
	__u32 s = 0;
#pragma unroll
	for (int i = 0; i < (int)(sizeof(*iph) / 2); i++)
		s += w[i];
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

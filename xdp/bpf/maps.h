// Constants, map value types and maps of the router.
#pragma once

#define RING_SIZE 65537
#define MAX_VIPS 512
#define MAX_BACKENDS 4096
#define MAX_IFACES 64
#define CONN_TABLE_SIZE 262144
#define NO_BACKEND 0xffffffff

#define VIP_F_LRU_BYPASS 1
#define VIP_F_ICMP_UNREACH 2

#define FAMILY_V4 4
#define FAMILY_V6 6

#define IP_DF 0x4000
#define IP_MF_OFFSET 0x3fff

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct vip_key {
	struct addr addr;
	__u16 port; // host order
	__u8 proto;
	__u8 pad;
};

struct vip_meta {
	__u32 vip_id;
	__u32 flags;
	__u32 fallback; // backend index or NO_BACKEND
};

struct backend {
	struct addr addr;
	__u8 family; // 0 = unset, 4, 6
	__u8 pad;
	__u8 mac[6]; // next hop
	__u32 ifindex; // 0 = the ingress interface
};

struct counters {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
	__u64 refused;
};

struct global_stats {
	__u64 options_or_fragments;
	__u64 ipv6_ext_headers;
	__u64 truncated;
	__u64 encap_errors;
};

struct router_config {
	__u32 src4; // network order
	struct addr src6;
};

struct mac {
	__u8 addr[6];
	__u8 pad[2];
};

// Inner Maglev table. Mmapable, so SwapTable fills a new one with a copy
// rather than 65,537 updates.
struct ring {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, RING_SIZE);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_VIPS);
	__type(key, struct vip_key);
	__type(value, struct vip_meta);
} vips SEC(".maps");

// Destination addresses of all VIPs (value: how many VIPs use it), to
// recognise fragments and extension-header packets that carry no port.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_VIPS);
	__type(key, struct addr);
	__type(value, __u32);
} vip_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend);
} backends SEC(".maps");

// Two tables per VIP id (key vip_id*2 + generation): user space fills the
// one not in use and flips table_gen, so a whole new table becomes visible
// with one array update, without the RCU grace period an update of the
// outer map waits for.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2 * MAX_VIPS);
	__type(key, __u32);
	__array(values, struct ring);
} maglev SEC(".maps");

// The generation (0 or 1) of each VIP id's table in use.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_VIPS);
	__type(key, __u32);
	__type(value, __u32);
} table_gen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CONN_TABLE_SIZE);
	__type(key, struct flow);
	__type(value, __u32);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_VIPS);
	__type(key, __u32);
	__type(value, struct counters);
} vip_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct counters);
} backend_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct global_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct router_config);
} config_map SEC(".maps");

// Source MAC for frames leaving through an interface.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_IFACES);
	__type(key, __u32);
	__type(value, struct mac);
} if_macs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, MAX_IFACES);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

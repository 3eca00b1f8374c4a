package xdp

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang -cflags "-O2 -g -Wall -I/usr/include/x86_64-linux-gnu" -target bpfel -type vip_key -type vip_meta -type backend -type flow -type counters -type global_stats -type router_config -type mac router bpf/router.c

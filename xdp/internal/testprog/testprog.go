// Package testprog holds BPF programs used only by the xdp tests: the flow
// hash compiled from the router's own header, and a benchmark harness.
package testprog

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang -cflags "-O2 -g -Wall -I/usr/include/x86_64-linux-gnu" -target bpfel -type flow Hash hash.c
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang -cflags "-O2 -g -Wall -I/usr/include/x86_64-linux-gnu" -target bpfel Bench bench.c

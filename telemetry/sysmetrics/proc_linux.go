package sysmetrics

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// processCPU is the user plus system CPU time the process has used.
// getrusage avoids guessing the clock-tick rate that /proc/self/stat needs.
func processCPU() (time.Duration, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// cpuPercent turns CPU time used over a wall interval into a percentage of
// the CPUs this process may run on (runtime.NumCPU honours the affinity
// mask), so 100 means every allowed CPU was busy.
func cpuPercent(used, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	p := 100 * used.Seconds() / (wall.Seconds() * float64(runtime.NumCPU()))
	return min(max(p, 0), 100)
}

// residentBytes reads the resident set size from /proc/self/statm (pages).
func residentBytes() (uint64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, fmt.Errorf("read statm: %w", err)
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, fmt.Errorf("statm %q: too few fields", b)
	}
	pages, err := strconv.ParseUint(string(f[1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("statm resident: %w", err)
	}
	return pages * uint64(os.Getpagesize()), nil
}

// physicalBytes reads MemTotal from /proc/meminfo.
func physicalBytes() (uint64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("open meminfo: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := bytes.Fields(s.Bytes())
		if len(fields) >= 2 && string(fields[0]) == "MemTotal:" {
			kb, err := strconv.ParseUint(string(fields[1]), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("meminfo MemTotal: %w", err)
			}
			return kb * 1024, nil
		}
	}
	if err := s.Err(); err != nil {
		return 0, fmt.Errorf("read meminfo: %w", err)
	}
	return 0, fmt.Errorf("meminfo has no MemTotal")
}

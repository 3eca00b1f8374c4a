package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"testing"

	"github.com/stitchnfv/stitch/internal/samplekit"
	"github.com/stitchnfv/stitch/servicerouter/control"
)

func TestParseFlags(t *testing.T) {
	env := []string{EnvAddress + "=10.0.0.254"}
	tests := []struct {
		name string
		args []string
		env  []string
		want options // zero: a usage error
		msg  string  // in the usage error
	}{
		{name: "defaults from the environment", env: env,
			want: options{address: netip.MustParseAddr("10.0.0.254"), controlPort: control.DefaultPort, mode: modeNative, connTable: 65536, logLevel: slog.LevelInfo}},
		{name: "as stitchd starts it", args: []string{"--address", "10.10.1.254", "--mode", "generic", "--control-port", "9180"}, env: env,
			want: options{address: netip.MustParseAddr("10.10.1.254"), controlPort: 9180, mode: modeGeneric, connTable: 65536, logLevel: slog.LevelInfo}},
		{name: "IPv6 and every flag", args: []string{"--address", "fd00::fe", "--mode", "userspace", "--control-port", "1", "--conn-table", "1024", "--log-level", "debug"},
			want: options{address: netip.MustParseAddr("fd00::fe"), controlPort: 1, mode: modeUserspace, connTable: 1024, logLevel: slog.LevelDebug}},
		{name: "no address", msg: "--address"},
		{name: "bad address", args: []string{"--address", "10.0.0.256"}, msg: "--address"},
		{name: "loopback address", args: []string{"--address", "127.0.0.1"}, msg: "unicast"},
		{name: "bad mode", args: []string{"--mode", "dpdk"}, env: env, msg: "--mode"},
		{name: "port 0", args: []string{"--control-port", "0"}, env: env, msg: "--control-port"},
		{name: "port too large", args: []string{"--control-port", "65536"}, env: env, msg: "--control-port"},
		{name: "no connection table", args: []string{"--conn-table", "0"}, env: env, msg: "--conn-table"},
		{name: "stray argument", args: []string{"serve"}, env: env, msg: "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(tt.args, tt.env, io.Discard)
			if tt.msg == "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
				}
				return
			}
			var usage *samplekit.UsageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %+v, %v; want a usage error about %s", got, err, tt.msg)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var out strings.Builder
	_, err := parseFlags([]string{"-h"}, nil, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, w := range []string{"--address", "-control-port", "-conn-table", "-mode", "PUT  /v1/services", EnvAddress} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("help lacks %q:\n%s", w, out.String())
		}
	}
}

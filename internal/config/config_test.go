package config

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.VIM.Sites) != 2 || c.VIM.Sites[0].Name != "edge" || c.VIM.Sites[1].Name != "core" {
		t.Fatalf("default sites = %+v, want edge and core", c.VIM.Sites)
	}
}

func TestParseOverlaysDefaults(t *testing.T) {
	c, err := Parse([]byte("listen: 127.0.0.1:9999\nhealth-timeout: 5s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9999" || time.Duration(c.HealthTimeout) != 5*time.Second {
		t.Fatalf("overrides not applied: %+v", c)
	}
	if c.StateDir != Default().StateDir || len(c.VIM.Sites) != 2 {
		t.Fatalf("defaults lost: %+v", c)
	}
}

func TestParseRejects(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown field":  {"lisen: x\n", "lisen"},
		"bad site name":  {"vim: {type: local, sites: [{name: Edge-1}]}\n", "vim.sites[0].name"},
		"duplicate site": {"vim: {type: local, sites: [{name: a}, {name: a}]}\n", "duplicate site"},
		"unknown vim":    {"vim: {type: openstack}\n", "vim.type"},
		"bad duration":   {"health-timeout: soon\n", "duration"},
		"negative":       {"vim: {type: local, sites: [{name: a, capacity: {vcpu: -1}}]}\n", "negative"},
		"bad log level":  {"log-level: loud\n", "log-level"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

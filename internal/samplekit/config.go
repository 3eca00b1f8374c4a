package samplekit

import (
	"fmt"
	"strconv"
	"strings"
)

// Environment variables of the VNFM → instance contract.
const (
	EnvInstanceID = "STITCH_INSTANCE_ID"
	EnvNSInstance = "STITCH_NS_INSTANCE"
	EnvVnfProfile = "STITCH_VNF_PROFILE"
	EnvVDU        = "STITCH_VDU"
	EnvSlots      = "STITCH_SLOTS"
	EnvBindings   = "STITCH_BINDINGS"
	// EnvAddrPrefix is followed by the connection point id, upper-cased,
	// with '-' and '.' turned into '_' (see CpdEnvKey).
	EnvAddrPrefix = "STITCH_ADDR_"
)

// Config is what the VNFM tells an instance about itself.
type Config struct {
	InstanceID string
	NSInstance string
	VnfProfile string
	VDU        string
	// Slots is the session-slot budget; 0 when the VNFM gave none.
	Slots int
	// Addrs maps an int-cpd id, as spelled in the environment key
	// ("DATA", "MGMT_1"), to the instance's IP on it.
	Addrs map[string]string
	// BindingsPath is the bindings file; empty means no neighbours.
	BindingsPath string
}

// CpdEnvKey names the variable holding an instance's address on cpd.
func CpdEnvKey(cpd string) string {
	return EnvAddrPrefix + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(cpd))
}

// Addr returns the instance's IP on the int-cpd cpd ("data", "mgmt-1").
func (c Config) Addr(cpd string) (string, bool) {
	ip, ok := c.Addrs[strings.TrimPrefix(CpdEnvKey(cpd), EnvAddrPrefix)]
	return ip, ok
}

// ConfigFromEnv reads the contract from env, a list of KEY=VALUE entries as
// os.Environ returns them; later entries win, as in exec. It takes the list
// rather than reading the process environment so tests can run several
// instances in one process.
func ConfigFromEnv(env []string) (Config, error) {
	c := Config{Addrs: map[string]string{}}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		switch {
		case k == EnvInstanceID:
			c.InstanceID = v
		case k == EnvNSInstance:
			c.NSInstance = v
		case k == EnvVnfProfile:
			c.VnfProfile = v
		case k == EnvVDU:
			c.VDU = v
		case k == EnvBindings:
			c.BindingsPath = v
		case k == EnvSlots:
			if v == "" {
				c.Slots = 0
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return Config{}, fmt.Errorf("%s=%q: want a non-negative integer", EnvSlots, v)
			}
			c.Slots = n
		case strings.HasPrefix(k, EnvAddrPrefix) && len(k) > len(EnvAddrPrefix):
			c.Addrs[strings.TrimPrefix(k, EnvAddrPrefix)] = v
		}
	}
	return c, nil
}

// LookupEnv returns the value of key in env (KEY=VALUE entries, last wins).
func LookupEnv(env []string, key string) (string, bool) {
	val, found := "", false
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			val, found = v, true
		}
	}
	return val, found
}

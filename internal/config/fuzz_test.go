package config

import "testing"

// FuzzParse: any bytes give a valid configuration or an error, never a
// panic, and what is accepted validates.
func FuzzParse(f *testing.F) {
	f.Add([]byte("listen: 127.0.0.1:9999\n"))
	f.Add([]byte("vim: {type: local, prefix: ab, sites: [{name: a, capacity: {vcpu: 2}}]}\n"))
	f.Add([]byte("health-timeout: 5s\ndefault-grace: 1s\nlog-level: debug\n"))
	f.Add([]byte("vim: {sites: [{name: Bad!}]}\n"))
	f.Add([]byte("{{{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b)
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a configuration that does not validate: %v", err)
		}
	})
}

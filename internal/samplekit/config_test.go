package samplekit

import "testing"

func TestConfigFromEnv(t *testing.T) {
	env := []string{
		"PATH=/bin",
		"STITCH_INSTANCE_ID=web-1",
		"STITCH_NS_INSTANCE=ns-7",
		"STITCH_VNF_PROFILE=web",
		"STITCH_VDU=web",
		"STITCH_SLOTS=20",
		"STITCH_ADDR_DATA=10.10.1.5",
		"STITCH_ADDR_MGMT_NET=192.0.2.9",
		"STITCH_BINDINGS=/run/b.json",
		"STITCH_SLOTS=25", // later entries win, as in exec
	}
	c, err := ConfigFromEnv(env)
	if err != nil {
		t.Fatal(err)
	}
	if c.InstanceID != "web-1" || c.NSInstance != "ns-7" || c.VnfProfile != "web" || c.VDU != "web" ||
		c.Slots != 25 || c.BindingsPath != "/run/b.json" {
		t.Fatalf("config = %+v", c)
	}
	if ip, ok := c.Addr("data"); !ok || ip != "10.10.1.5" {
		t.Errorf("Addr(data) = %q, %v", ip, ok)
	}
	if ip, ok := c.Addr("mgmt-net"); !ok || ip != "192.0.2.9" {
		t.Errorf("Addr(mgmt-net) = %q, %v", ip, ok)
	}
	if _, ok := c.Addr("other"); ok {
		t.Error("Addr(other) found")
	}
}

func TestConfigFromEnvBadSlots(t *testing.T) {
	for _, v := range []string{"x", "-1", "1.5"} {
		if _, err := ConfigFromEnv([]string{"STITCH_SLOTS=" + v}); err == nil {
			t.Errorf("STITCH_SLOTS=%s accepted", v)
		}
	}
}

func TestCpdEnvKey(t *testing.T) {
	for cpd, want := range map[string]string{"data": "STITCH_ADDR_DATA", "mgmt-1": "STITCH_ADDR_MGMT_1", "Ext-Cp": "STITCH_ADDR_EXT_CP", "eth0.1": "STITCH_ADDR_ETH0_1"} {
		if got := CpdEnvKey(cpd); got != want {
			t.Errorf("CpdEnvKey(%q) = %q, want %q", cpd, got, want)
		}
	}
}

package vnfm

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/stitchnfv/stitch/descriptors"
)

func TestExpand(t *testing.T) {
	env := map[string]string{"STITCH_ADDR_DATA": "10.0.0.16", "MARKER": "/tmp/m"}
	for in, want := range map[string]string{
		"${STITCH_ADDR_DATA}:8080":   "10.0.0.16:8080",
		"$MARKER":                    "/tmp/m",
		"test -f $MARKER || exit $?": "test -f /tmp/m || exit ${?}",
		"cost $$5":                   "cost $5",
		"$HOME/x":                    "${HOME}/x",
	} {
		if got := expand(in, env); got != want {
			t.Errorf("expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEnvContract(t *testing.T) {
	m, err := New(nil, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := VnfcSpec{
		Name: "ns1-web-0", NsID: "ns1", Profile: "web", Slots: 20,
		VDU:   &descriptors.VDU{ID: "web", Program: &descriptors.Program{Env: map[string]string{"LISTEN": "${STITCH_ADDR_DATA_NET}:80"}}},
		Ports: map[string]PortBinding{"data-net": {Network: "n", IP: "10.0.0.20"}},
	}
	env := m.Env(s)
	want := map[string]string{
		"STITCH_INSTANCE_ID": "ns1-web-0", "STITCH_NS_INSTANCE": "ns1", "STITCH_VNF_PROFILE": "web",
		"STITCH_VDU": "web", "STITCH_SLOTS": "20", "STITCH_ADDR_DATA_NET": "10.0.0.20",
		"STITCH_BINDINGS": m.BindingsPath("ns1-web-0"), "LISTEN": "10.0.0.20:80",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
}

func TestWriteBindingsIsAtomicAndSkipsUnchanged(t *testing.T) {
	m, err := New(nil, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := Bindings{Next: []string{"10.0.0.1:80"}, Deps: map[string][]string{"db": {"10.0.0.2:80"}}}
	if err := m.WriteBindings("x", b); err != nil {
		t.Fatal(err)
	}
	st1, _ := os.Stat(m.BindingsPath("x"))
	if err := m.WriteBindings("x", b); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(m.BindingsPath("x"))
	if !os.SameFile(st1, st2) {
		t.Error("unchanged bindings were rewritten; programs would reload for nothing")
	}
	raw, _ := os.ReadFile(m.BindingsPath("x"))
	var got Bindings
	if err := json.Unmarshal(raw, &got); err != nil || got.Deps["db"][0] != "10.0.0.2:80" {
		t.Fatalf("bindings file %s: %v", raw, err)
	}
	if err := m.WriteBindings("x", Bindings{}); err != nil {
		t.Fatal(err)
	}
	raw, _ = os.ReadFile(m.BindingsPath("x"))
	if string(raw) != `{"next":[],"deps":{}}` {
		t.Fatalf("empty bindings written as %s, want explicit empty lists", raw)
	}
}

package sktest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stitchnfv/stitch/internal/samplekit"
	"github.com/stitchnfv/stitch/internal/samplekit/backend"
	"github.com/stitchnfv/stitch/internal/samplekit/firewall"
	"github.com/stitchnfv/stitch/internal/samplekit/kvdb"
	"github.com/stitchnfv/stitch/internal/samplekit/lb"
	"github.com/stitchnfv/stitch/internal/samplekit/web"
	"github.com/stitchnfv/stitch/sdk/slots"
)

// roles lists the chain's roles in order; each is also the vnf-profile id
// its dependants find it under in their bindings' deps.
func roles() []string { return []string{"fw", "lb", "web", "backend", "kvdb"} }

// defaultCount and idPrefix shape the default chain: firewall → lb →
// 2 web → 3 backends → kvdb, with ids as in the paper's example trace
// (kvdb:db-0).
func defaultCount(role string) int {
	switch role {
	case "web":
		return 2
	case "backend":
		return 3
	}
	return 1
}

func idPrefix(role string) string {
	if role == "kvdb" {
		return "db"
	}
	return role
}

// nextOf is the forwarding graph (fw → lb → web), which instances find in
// their bindings' "next".
func nextOf(role string) string {
	switch role {
	case "fw":
		return "lb"
	case "lb":
		return "web"
	}
	return ""
}

// depOf is the depends-on edge, which instances find in their bindings'
// "deps", as in examples/nsd/complex-service.yaml.
func depOf(role string) string {
	switch role {
	case "fw":
		return "lb"
	case "lb":
		return "web"
	case "web":
		return "backend"
	case "backend":
		return "kvdb"
	}
	return ""
}

// ChainSlots is every in-process back end's slot budget.
const ChainSlots = 20

// Program is a sample program running in-process on loopback.
type Program struct {
	ID      string
	Addr    string
	Runtime *samplekit.Runtime
	Slots   *slots.Budget
	// Stop shuts the program down as SIGTERM would and returns what Serve
	// returned; calling it again returns the same.
	Stop func() error
}

// Chain is the sample service wired on loopback.
type Chain struct {
	Dir string
	// Addrs lists every role's instances, in-process or external.
	Addrs map[string][]string
	// Bindings is each role's bindings file (shared by its instances).
	Bindings map[string]string
	// Programs are the instances the chain runs itself.
	Programs map[string][]*Program
}

// StartChain runs the sample chain in-process. external gives, per role,
// the addresses of instances the test runs itself (typically a program's
// run function on FreeAddr); those roles are not started here, and the
// test starts its program with Env(role, id).
func StartChain(t testing.TB, external map[string][]string) *Chain {
	t.Helper()
	c := &Chain{Dir: t.TempDir(), Addrs: map[string][]string{}, Bindings: map[string]string{}, Programs: map[string][]*Program{}}
	listeners := map[string][]net.Listener{}
	all := roles()
	for _, role := range all {
		if ext, ok := external[role]; ok {
			c.Addrs[role] = ext
			continue
		}
		for range defaultCount(role) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			listeners[role] = append(listeners[role], ln)
			c.Addrs[role] = append(c.Addrs[role], ln.Addr().String())
		}
	}
	for _, role := range all {
		set := samplekit.BindingsSet{Next: c.Addrs[nextOf(role)]}
		if d := depOf(role); d != "" {
			set.Deps = map[string][]string{d: c.Addrs[d]}
		}
		c.Bindings[role] = filepath.Join(c.Dir, role+".json")
		WriteBindings(t, c.Bindings[role], set)
	}
	// Start from the end of the chain so each program's neighbours are up.
	for i := len(all) - 1; i >= 0; i-- {
		role := all[i]
		for n, ln := range listeners[role] {
			c.Programs[role] = append(c.Programs[role], c.start(t, ln, role, fmt.Sprintf("%s-%d", idPrefix(role), n)))
		}
	}
	return c
}

// Entry is the address of the chain's first hop.
func (c *Chain) Entry() string { return c.Addrs["fw"][0] }

// Env is the environment the VNFM would give instance id of role.
func (c *Chain) Env(role, id string) []string {
	return Env(samplekit.EnvInstanceID, id, samplekit.EnvVnfProfile, role, samplekit.EnvBindings, c.Bindings[role])
}

// SetBindings rewrites role's bindings file, as the VNFM does after a
// scale or heal.
func (c *Chain) SetBindings(t testing.TB, role string, set samplekit.BindingsSet) {
	t.Helper()
	WriteBindings(t, c.Bindings[role], set)
}

type app struct {
	handler http.Handler
	slots   *slots.Budget
	close   func()
}

func (c *Chain) build(t testing.TB, role string, rt *samplekit.Runtime) app {
	switch role {
	case "fw":
		rules, err := firewall.ParseRules([]string{"127.0.0.2/32"}, []string{"/admin"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		h := firewall.New(rt, rules)
		return app{handler: h, close: h.Close}
	case "lb":
		h := lb.New(rt, samplekit.RoundRobin)
		return app{handler: h, close: h.Close}
	case "web":
		h := web.New(rt, web.Options{BackendProfile: "backend"})
		return app{handler: h, close: h.Close}
	case "backend":
		budget := slots.New(ChainSlots)
		h := backend.New(rt, backend.Options{DBProfile: "kvdb", Slots: budget})
		return app{handler: h, slots: budget, close: h.Close}
	case "kvdb":
		store, err := kvdb.Open(filepath.Join(c.Dir, "kv.json"))
		if err != nil {
			t.Fatal(err)
		}
		return app{handler: kvdb.New(rt, store)}
	}
	t.Fatalf("unknown role %q", role)
	return app{}
}

func (c *Chain) start(t testing.TB, ln net.Listener, role, id string) *Program {
	t.Helper()
	logs := NewLogBuffer(t, id)
	rt, err := samplekit.NewRuntime(role, c.Env(role, id), samplekit.NewLogger(logs, 0))
	if err != nil {
		t.Fatal(err)
	}
	a := c.build(t, role, rt)
	srv := &samplekit.Server{Runtime: rt, Handler: a.handler, Slots: a.slots, OnShutdown: a.close}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	var result error
	stop := func() error {
		once.Do(func() { cancel(); result = <-done })
		return result
	}
	t.Cleanup(func() { _ = stop() })
	p := &Program{ID: id, Addr: ln.Addr().String(), Runtime: rt, Slots: a.slots, Stop: stop}
	deadline := time.Now().Add(5 * time.Second)
	for !Healthy(p.Addr) {
		if time.Now().After(deadline) {
			t.Fatalf("%s not healthy\n%s", id, logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return p
}

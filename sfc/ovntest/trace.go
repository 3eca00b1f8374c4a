package ovntest

import "testing"

// Trace runs ovn-trace against env's southbound database for microflow
// entering logical datapath (a switch or router name), with extraArgs (for
// example "--ct=new" once per conntrack lookup the flow meets) before the
// datapath, and returns its output; it fails t if ovn-trace fails.
func Trace(t testing.TB, env *Env, datapath, microflow string, extraArgs ...string) string {
	t.Helper()
	args := append([]string{"--db=" + env.SB()}, extraArgs...)
	out, err := env.Ctl(t.Context(), "ovn-trace", append(args, datapath, microflow)...)
	if err != nil {
		t.Fatalf("ovntest: %v", err)
	}
	return out
}

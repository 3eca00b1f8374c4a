package sim

import (
	"strings"
	"testing"
)

// BenchmarkSim reports each figure run as custom metrics: the percentage
// of sessions refused while some instance had a free slot, and of all
// sessions refused.
//
//	go test -run NONE -bench Sim -benchtime 1x ./servicerouter/sim/
func BenchmarkSim(b *testing.B) {
	for _, run := range figureRuns() {
		name := strings.NewReplacer(" ", "_", "(", "", ")", "", ",", "").Replace(run.name)
		b.Run(name, func(b *testing.B) {
			var r Result
			for b.Loop() {
				var err error
				if r, err = Run(run.cfg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(r.WronglyRefusedPct(), "wrongly-refused-%")
			b.ReportMetric(r.RefusedPct(), "refused-%")
		})
	}
}

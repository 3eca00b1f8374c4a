package wanem_test

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/stitchnfv/stitch/internal/wanem"
)

// A burst of three 1500-byte frames on a 20 ms, 1 Mbit/s link: the first
// leaves after the delay, the others one serialisation time (12 ms) apart.
func ExampleScheduler() {
	s, err := wanem.NewScheduler(wanem.Impairment{Delay: 20 * time.Millisecond, RateBps: 1e6}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		panic(err)
	}
	start := time.Now()
	for range 3 {
		dep, ok := s.Schedule(1500, start)
		fmt.Println(dep.Sub(start), ok)
	}
	// Output:
	// 20ms true
	// 32ms true
	// 44ms true
}

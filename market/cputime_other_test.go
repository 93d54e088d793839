//go:build !unix

package market_test

import "time"

// cpuTime is not measured here: the benchmarks report 0 CPU per job.
func cpuTime() time.Duration { return 0 }

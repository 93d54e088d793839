// Command benchdoc writes docs/benchmarks.md from the output of the
// project's benchmarks. `make bench` runs every BENCH_TARGETS target with
// .ci/benchshim first on PATH: each `go test ... -bench` run is saved, with
// its command, directory, environment and load average, to
// build/bench/<start-ns>.txt. Then
//
//	go run ./internal/benchdoc [-in build/bench] [-out docs/benchmarks.md]
//
// parses them (the standard benchmark format, go.dev/design/14313) and
// writes the page: the machine, the headline figures of catalog.go with
// goal (met or missed) and anchor (ratio), every figure of every run with
// the command that reproduces it, and links to the hand-written notes in
// docs/benchmarks/*.md.
//
// # Metric names
//
// Benchmarks report custom figures with b.ReportMetric(value, unit); the
// unit names the figure. The convention:
//
//	<what>-<stat>-<time unit>   a duration: stat is p50, p99, max or mean,
//	                            the unit ns, us, ms or s (result-p50-ms,
//	                            k-bids-p99-ms, compile-ms, setup-s)
//	<things>/s                  a rate, higher is better (jobs/s, runs/s)
//	<what>-MB, <what>-MiB/s     sizes in 10^6 bytes; throughputs
//	<things>/<per>[/<per>]      counts (msgs/node/job, market-streams/job)
//	ratio                       a ratio measured in the same run
//
// A time metric is converted to the display unit of its catalog entry, so
// a part may switch from ns/op to p50-ms without touching this tool. Goal
// and anchor of a headline figure live in catalog.go, next to where they
// come from (the issue, BASELINES.md, a published figure).
package main

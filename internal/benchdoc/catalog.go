package main

import (
	"strings"
)

// figure is a headline figure of docs/benchmarks.md: which benchmark and
// metric it comes from, its goal (from the issues) and its anchor (a
// measured baseline in the same run, or a published or BASELINES.md
// figure), so the page can say met or missed and give the ratio.
type figure struct {
	Title string
	Pkg   string // import path suffix of the benchmark's package
	Bench string // full benchmark name without the -GOMAXPROCS suffix
	// Metrics are the units to read, the first present wins (a part may
	// report a percentile later and the mean ns/op now).
	Metrics []string
	Unit    string // display unit (see convert)
	Higher  bool   // higher is better (rates); else lower is better
	Goal    goal
	Anchor  anchor
}

type goal struct {
	Text  string
	Value float64 // the bound, in Unit; 0: no goal to check
}

// anchor is what a figure is compared with: a fixed value in Unit, or
// another benchmark of the same run (Bench, Metrics) for a ratio measured
// on one machine at one time.
type anchor struct {
	Text    string
	Value   float64
	Pkg     string
	Bench   string
	Metrics []string
}

const mod = "github.com/cloudless-network/cloudless/"

// catalog is the headline table, in page order. Anchors with a Value are
// the figures of /work/shared/BASELINES.md (measured on this kind of
// machine) and the published figures of Bacalhau, Golem, Akash and
// Cloudflare Workers quoted in issue 9.
var catalog = []figure{
	{Title: "warm time to result, channel payment (p50)", Pkg: "market", Bench: "BenchmarkJobToResult/channel",
		Metrics: []string{"p50-ms", "ns/op"}, Unit: "ms",
		Goal:   goal{Text: "≤ 20 ms", Value: 20},
		Anchor: anchor{Text: "Bacalhau ≈ 630 ms, no-op job", Value: 630}},
	{Title: "warm time to result, channel payment (p99)", Pkg: "market", Bench: "BenchmarkJobToResult/channel",
		Metrics: []string{"p99-ms"}, Unit: "ms",
		Anchor: anchor{Text: "Bacalhau ≈ 630 ms, no-op job", Value: 630}},
	{Title: "warm time to result, escrow payment (p50)", Pkg: "market", Bench: "BenchmarkJobToResult/escrow",
		Metrics: []string{"p50-ms", "ns/op"}, Unit: "ms",
		Goal:   goal{Text: "≤ one block + 20 ms"},
		Anchor: anchor{Text: "Bacalhau ≈ 3 s, trivial container", Value: 3000}},
	{Title: "jobs per second through one provider, small functions", Pkg: "market", Bench: "BenchmarkProviderThroughput",
		Metrics: []string{"jobs/s"}, Unit: "jobs/s", Higher: true,
		Goal:   goal{Text: "≥ 500/s", Value: 500},
		Anchor: anchor{Text: "Bacalhau ≈ 16 no-op jobs/s", Value: 16}},
	{Title: "provider daemon alone: jobs per second 2 cores give it (2000 ms / its CPU per small job)", Pkg: "tests/perf", Bench: "BenchmarkProviderDaemon",
		Metrics: []string{"provider-2core-jobs/s"}, Unit: "jobs/s", Higher: true,
		Goal:   goal{Text: "≥ 500/s", Value: 500},
		Anchor: anchor{Text: "Bacalhau ≈ 16 no-op jobs/s", Value: 16}},
	{Title: "provider daemon CPU per small channel job (its process, /proc utime+stime)", Pkg: "tests/perf", Bench: "BenchmarkProviderDaemon",
		Metrics: []string{"provider-cpu-ms/job"}, Unit: "ms/job",
		Goal: goal{Text: "≤ 4 ms (500/s on 2 cores)", Value: 4}},
	{Title: "jobs per second through a provider daemon, clients and dev chain on the same 2 cores", Pkg: "tests/perf", Bench: "BenchmarkProviderDaemon",
		Metrics: []string{"jobs/s"}, Unit: "jobs/s", Higher: true,
		Anchor: anchor{Text: "Bacalhau ≈ 16 no-op jobs/s", Value: 16}},
	{Title: "warm local network (1 ms links, mocknet): small cached function, time to result (p50)", Pkg: "tests/scale", Bench: "BenchmarkWarmPath",
		Metrics: []string{"total-p50-ms"}, Unit: "ms",
		Goal:   goal{Text: "≤ 20 ms", Value: 20},
		Anchor: anchor{Text: "Bacalhau ≈ 630 ms, no-op job", Value: 630}},
	{Title: "cold path: 3 MB module never seen, fetched from a peer, compiled, run", Pkg: "tests/scale", Bench: "BenchmarkColdPath",
		Metrics: []string{"total-ms"}, Unit: "ms",
		Anchor: anchor{Text: "Bacalhau ≈ 3 s, trivial container", Value: 3000}},
	{Title: "cold path: compile phase of the 3 MB module", Pkg: "tests/scale", Bench: "BenchmarkColdPath",
		Metrics: []string{"compile-ms"}, Unit: "ms",
		Anchor: anchor{Text: "bare wazero compiling the same module, same run", Pkg: "tests/scale", Bench: "BenchmarkColdPath", Metrics: []string{"bare-compile-ms"}}},
	{Title: "cold path: bitswap fetch of the 3 MB module from a peer", Pkg: "tests/scale", Bench: "BenchmarkColdPath",
		Metrics: []string{"fetch-ms"}, Unit: "ms"},
	{Title: "idle provider daemon RSS", Pkg: "tests/perf", Bench: "BenchmarkProviderRSS",
		Metrics: []string{"idle-rss-MB"}, Unit: "MB",
		Goal: goal{Text: "≤ 100 MB", Value: 100}},
	{Title: "provider RSS per concurrent job", Pkg: "tests/perf", Bench: "BenchmarkProviderRSS",
		Metrics: []string{"rss-per-job-MB"}, Unit: "MB"},
	{Title: "100 nodes: request → 3 bids (p50)", Pkg: "tests/scale", Bench: "BenchmarkScale/N=100",
		Metrics: []string{"k-bids-p50-ms"}, Unit: "ms",
		Anchor: anchor{Text: "Akash waits 30 s for bids", Value: 30000}},
	{Title: "100 nodes: request → result (p50)", Pkg: "tests/scale", Bench: "BenchmarkScale/N=100",
		Metrics: []string{"result-p50-ms"}, Unit: "ms",
		Anchor: anchor{Text: "Golem ≈ 34 s for a small task", Value: 34000}},
	{Title: "1,000 nodes: request → 3 bids (p50)", Pkg: "tests/scale", Bench: "BenchmarkScale/N=1000",
		Metrics: []string{"k-bids-p50-ms"}, Unit: "ms",
		Anchor: anchor{Text: "Akash waits 30 s for bids", Value: 30000}},
	{Title: "1,000 nodes: request → result (p50)", Pkg: "tests/scale", Bench: "BenchmarkScale/N=1000",
		Metrics: []string{"result-p50-ms"}, Unit: "ms",
		Anchor: anchor{Text: "Golem ≈ 34 s for a small task", Value: 34000}},
	{Title: "1,000 nodes: request → result (p99)", Pkg: "tests/scale", Bench: "BenchmarkScale/N=1000",
		Metrics: []string{"result-p99-ms"}, Unit: "ms"},
	{Title: "1,000 nodes: messages per node per job", Pkg: "tests/scale", Bench: "BenchmarkScale/N=1000",
		Metrics: []string{"msgs/node/job"}, Unit: "msgs"},
	{Title: "start of a trivial module from a cached compile (p50)", Pkg: "executor", Bench: "BenchmarkStart/nop",
		Metrics: []string{"p50-ns"}, Unit: "µs",
		Goal:   goal{Text: "≤ 1 ms", Value: 1000},
		Anchor: anchor{Text: "Cloudflare Workers cold isolate ≈ 5 ms", Value: 5000}},
	{Title: "trivial runs per second on 2 cores", Pkg: "executor", Bench: "BenchmarkRunsParallel",
		Metrics: []string{"runs/s"}, Unit: "runs/s", Higher: true,
		Anchor: anchor{Text: "Bacalhau ≈ 16 no-op jobs/s", Value: 16}},
	{Title: "compile of a 2.6 MB Go module, disk-cache hit in a new process", Pkg: "executor", Bench: "BenchmarkCompileGo/disk-hit-new-process",
		Metrics: []string{"compile-ns/op"}, Unit: "ms",
		Anchor: anchor{Text: "cold compile, same run", Pkg: "executor", Bench: "BenchmarkCompileGo/cold", Metrics: []string{"ns/op"}}},
	{Title: "sha256 of 64 MiB in the sandbox", Pkg: "executor", Bench: "BenchmarkSHA256/wasm",
		Metrics: []string{"ns/op"}, Unit: "ms",
		Goal:   goal{Text: "≤ 2× native"},
		Anchor: anchor{Text: "same C source built natively, same run", Pkg: "executor", Bench: "BenchmarkSHA256/native-gcc", Metrics: []string{"ns/op"}}},
	{Title: "HTTP gateway, function run locally (`local: true`), p50", Pkg: "trigger", Bench: "BenchmarkGatewayLocal",
		Metrics: []string{"p50-ms"}, Unit: "ms",
		Goal:   goal{Text: "≤ 3× bare handler"},
		Anchor: anchor{Text: "bare Go net/http handler, same bytes, same run", Pkg: "trigger", Bench: "BenchmarkGatewayBare", Metrics: []string{"p50-ms"}}},
	{Title: "HTTP gateway → warm market provider, p50", Pkg: "trigger", Bench: "BenchmarkGatewayMarket",
		Metrics: []string{"p50-ms"}, Unit: "ms",
		Goal:   goal{Text: "≤ local + 5 ms"},
		Anchor: anchor{Text: "the same function with `local: true`", Pkg: "trigger", Bench: "BenchmarkGatewayLocal", Metrics: []string{"p50-ms"}}},
	{Title: "64 MiB fetched from kubo (cloudless / kubo-to-kubo throughput)", Pkg: "storage", Bench: "BenchmarkKuboFetch64MiB",
		Metrics: []string{"ratio"}, Unit: "×", Higher: true,
		Goal: goal{Text: "≥ 0.9× kubo", Value: 0.9}},
	{Title: "offer propagation to 99% of 500 nodes (p50)", Pkg: "p2p", Bench: "BenchmarkOfferPropagation/N=500",
		Metrics: []string{"ms-to-99%-p50"}, Unit: "ms"},
}

// convert turns a reported value in unit into the display unit du. Times
// are recognised by their suffix (ns/op, -ns, -us, -ms, -s, ns/op
// variants); other units must match du or be a plain count.
func convert(unit string, v float64, du string) (float64, bool) {
	if sec, ok := seconds(unit); ok {
		d, ok := seconds("-" + strings.TrimPrefix(du, "µ"))
		if du == "µs" {
			d, ok = 1e-6, true
		}
		if !ok {
			return 0, false
		}
		return v * sec / d, true
	}
	return v, true
}

// seconds is the factor from a time unit to seconds.
func seconds(unit string) (float64, bool) {
	u := strings.TrimSuffix(unit, "/op")
	switch {
	case u == "ns" || strings.HasSuffix(u, "-ns"):
		return 1e-9, true
	case u == "us" || strings.HasSuffix(u, "-us") || strings.HasSuffix(u, "-µs"):
		return 1e-6, true
	case u == "ms" || strings.HasSuffix(u, "-ms"):
		return 1e-3, true
	case u == "s" || strings.HasSuffix(u, "-s"):
		return 1, true
	}
	return 0, false
}

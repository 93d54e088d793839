# Benchmarks page and the benchmarks of issue 9 (network scale, cold path,
# provider memory).
#
#   make bench         every BENCH_TARGETS target, then docs/benchmarks.md
#                      from their saved output (internal/benchdoc)
#   make bench-doc     docs/benchmarks.md again from docs/benchmarks/runs, no re-run
#   make bench-scale   tests/scale: 100/250/500/1000 simulated nodes, the
#                      cold path of a 3 MB module and the warm path of a small
#                      one, by phase (docs/benchmarks/scale.md)
#   make bench-perf    tests/perf: idle RSS of a provider daemon and RSS per
#                      concurrent job (docs/benchmarks/node.md)
#   make bench-smoke   every benchmark of the repo once (-benchtime 1x,
#                      -short), then the page generator on that output with
#                      -check; part of `make test` so no benchmark can rot
#
# How `make bench` records: its target-specific PATH puts .ci/benchshim
# first, whose `go` runs the real toolchain and, for `go test ... -bench`,
# saves command, directory, environment, load average and output to
# $(BENCH_OUT)/<start-ns>.txt. The runs are kept in the tree
# (docs/benchmarks/runs): the page shows the latest run of each benchmark, so
# running one part (`make bench BENCH_TARGETS=bench-trigger`) refreshes only
# its figures and the others keep theirs, each with its date and load.
# `make bench-reset` forgets them all. Parts add their targets to BENCH_TARGETS and
# write `go test` (or $(GO) test) as usual. Nothing to install.

BENCH_OUT        ?= docs/benchmarks/runs
BENCH_SMOKE_OUT  ?= build/bench-smoke
SCALE_BENCHTIME  ?= 20x
BENCH_REAL_GO    := $(shell command -v $(GO) 2>/dev/null)

.PHONY: bench-reset bench-doc bench-scale bench-perf bench-smoke

# This recipe runs after every prerequisite (the Makefile's
# `bench: $(BENCH_TARGETS)`); the target-specific PATH below reaches them.
bench: export PATH := $(CURDIR)/.ci/benchshim:$(PATH)
bench: export BENCH_OUT := $(CURDIR)/$(BENCH_OUT)
bench: export BENCH_REAL_GO := $(BENCH_REAL_GO)
bench:
	$(GO) run ./internal/benchdoc -in $(BENCH_OUT) -out docs/benchmarks.md
	@echo "wrote docs/benchmarks.md from $(BENCH_OUT)"

bench-reset:
	rm -rf $(BENCH_OUT)

bench-doc:
	$(GO) run ./internal/benchdoc -in $(BENCH_OUT) -out docs/benchmarks.md

bench-scale:
	$(GO) test ./tests/scale -run '^$$' -bench 'BenchmarkScale' -benchtime $(SCALE_BENCHTIME) -timeout 90m
	$(GO) test ./tests/scale -run '^$$' -bench 'BenchmarkColdPath' -benchtime 5x -timeout 20m
	$(GO) test ./tests/scale -run '^$$' -bench 'BenchmarkWarmPath' -benchtime 50x -timeout 20m

bench-perf: build
	CLOUDLESS_BIN=$(CURDIR)/$(BIN) $(GO) test ./tests/perf -run '^$$' -bench 'BenchmarkProviderRSS' -benchtime 1x -timeout 20m

bench-smoke: export PATH := $(CURDIR)/.ci/benchshim:$(PATH)
bench-smoke: export BENCH_OUT := $(CURDIR)/$(BENCH_SMOKE_OUT)
bench-smoke: export BENCH_REAL_GO := $(BENCH_REAL_GO)
bench-smoke: build
	rm -rf $(BENCH_SMOKE_OUT)
	CLOUDLESS_BIN=$(CURDIR)/$(BIN) PERF_JOBS=4 go test -short -run '^$$' -bench . -benchtime 1x -timeout 20m ./...
	$(GO) run ./internal/benchdoc -check -in $(BENCH_SMOKE_OUT) -out $(BENCH_SMOKE_OUT)/benchmarks.md

BENCH_TARGETS   += bench-scale bench-perf
INTEROP_TARGETS += bench-smoke

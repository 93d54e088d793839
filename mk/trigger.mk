# trigger: serverless functions (manifest, WAGI gateway, invokers).
#
#   make trigger-fixtures  rebuilds trigger/testdata/*.wasm (hostile CGI
#                          functions in .wat, echo.c) with wat2wasm and clang;
#                          the built fixtures are checked in, so `go test`
#                          needs neither tool
#   make bench-trigger     requests through the gateway: bare net/http vs
#                          local: true vs a warm market provider (p50/p99,
#                          req/s), and the first request for a never-seen
#                          3 MB module by phase (docs/benchmarks/trigger.md)
#   make fuzz-trigger      FuzzParseManifest and FuzzParseCGIResponse, each
#                          for $(TRIGGER_FUZZTIME); the seed corpus in
#                          trigger/testdata/fuzz runs in every `go test`
#
# .ci/install-wasm-tools.sh installs clang, lld, wasi-libc and wabt when
# missing (idempotent).

TRIGGER_FUZZTIME  ?= 1m
TRIGGER_BENCHTIME ?= 2000x
TRIGGER_MARKET_BENCHTIME ?= 300x

.PHONY: trigger-fixtures bench-trigger fuzz-trigger

trigger-fixtures:
	@.ci/install-wasm-tools.sh
	trigger/testdata/build.sh

# The cold-start benchmark uses build/examples/markdown.wasm (≈3 MB, Go).
bench-trigger: $(EXAMPLES_DIR)/markdown.wasm
	$(GO) test -run '^$$' -bench 'BenchmarkGateway(Bare|Local)$$' -benchtime $(TRIGGER_BENCHTIME) -timeout 20m ./trigger/
	$(GO) test -run '^$$' -bench 'BenchmarkGatewayMarket$$' -benchtime $(TRIGGER_MARKET_BENCHTIME) -timeout 20m ./trigger/
	$(GO) test -run '^$$' -bench 'BenchmarkColdModule$$' -benchtime 1x -count 3 -timeout 20m ./trigger/

fuzz-trigger:
	$(GO) test -run '^$$' -fuzz '^FuzzParseManifest$$' -fuzztime $(TRIGGER_FUZZTIME) ./trigger/
	$(GO) test -run '^$$' -fuzz '^FuzzParseCGIResponse$$' -fuzztime $(TRIGGER_FUZZTIME) ./trigger/
	$(GO) test -run '^$$' -fuzz '^FuzzRender$$' -fuzztime $(TRIGGER_FUZZTIME) ./examples/functions/markdown/

# The gateway's concurrency tests run again under the race detector.
RACE_PKGS     += ./trigger/...
BENCH_TARGETS += bench-trigger
FUZZ_TARGETS  += fuzz-trigger

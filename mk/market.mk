# market: the marketplace (provider, client, offer book, mediator).

.PHONY: market-fixtures market-fuzz market-bench

# Rebuilds market/testdata/job.wasm from job.c (clang + wasi-libc); the
# .wasm is checked in, so tests do not need this.
market-fixtures:
	market/testdata/build.sh

market-fuzz:
	go test ./market -run XXX -fuzz FuzzDecodeSubmit -fuzztime 60s

market-bench:
	go test ./market -run XXX -bench BenchmarkJobToResult -benchtime=20x

FUZZ_TARGETS += market-fuzz
BENCH_TARGETS += market-bench

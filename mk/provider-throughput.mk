# Issue 9's provider throughput goal, measured on the daemon itself:
#
#   make bench-provider-daemon   tests/perf BenchmarkProviderDaemon: a
#                                `cloudless node --provide` process driven
#                                by in-process clients with 64 small channel
#                                jobs in flight; jobs/s, the provider's CPU
#                                per job and the 2-core capacity it implies
#                                (docs/benchmarks/market.md)

PROVIDER_DAEMON_BENCHTIME ?= 2000x

.PHONY: bench-provider-daemon

bench-provider-daemon: build
	CLOUDLESS_BIN=$(CURDIR)/$(BIN) $(GO) test ./tests/perf -run '^$$' -bench 'BenchmarkProviderDaemon' -benchtime $(PROVIDER_DAEMON_BENCHTIME) -timeout 30m

BENCH_TARGETS += bench-provider-daemon

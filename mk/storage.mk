# storage: the embedded IPFS node.
#
#   make kubo            build kubo v0.41.0 into $HOME/.cache/cloudless (idempotent,
#                        several minutes cold on 2 cores) with .ci/install-kubo.sh
#   make interop-kubo    same CIDs as `ipfs add --cid-version=1`, bitswap both ways
#                        against a real kubo daemon on loopback
#   make bench-storage   64 MiB fetch from kubo vs kubo-to-kubo, add throughput
#                        vs `ipfs add` (figures: docs/benchmarks/storage.md)

KUBO_VERSION ?= v0.41.0
KUBO ?= $(HOME)/.cache/cloudless/kubo-$(KUBO_VERSION)/ipfs

.PHONY: kubo interop-kubo bench-storage test-storage

kubo:
	KUBO_VERSION=$(KUBO_VERSION) ./.ci/install-kubo.sh >/dev/null

interop-kubo: kubo
	CLOUDLESS_KUBO=$(KUBO) $(GO) test -count=1 -timeout 15m -run 'TestKubo' -v ./storage/

bench-storage: kubo
	CLOUDLESS_KUBO=$(KUBO) $(GO) test -count=1 -timeout 30m -run '^$$' -bench 'BenchmarkKubo|BenchmarkAdd' -benchtime=3x ./storage/

test-storage:
	$(GO) test -count=1 ./storage/... && $(GO) test -count=1 -run 'Publish|Get|Pin|Car|Repo' ./cmd/cloudless/

INTEROP_TARGETS += interop-kubo
BENCH_TARGETS += bench-storage

.PHONY: fuzz-storage
fuzz-storage:
	$(GO) test -run '^$$' -fuzz FuzzImportCAR -fuzztime 2m ./storage/

FUZZ_TARGETS += fuzz-storage

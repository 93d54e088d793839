# fuzz: every Go fuzz target in the repo, discovered by .ci/fuzz-smoke.sh
# (grep '^func Fuzz' in *_test.go), so a new target needs no Makefile edit.
#
#   make fuzz-smoke   each target for FUZZ_SMOKE_TIME (2s), one worker, fresh
#                     corpus cache; part of `make test` (via INTEROP_TARGETS)
#   make fuzz-all     each target for FUZZ_ALL_TIME (60s), the persistent go
#                     test cache (corpora grow run after run); part of
#                     `make fuzz`
#   make fuzz-report  fuzz-all for FUZZ_REPORT_TIME (30s) and write the table
#                     of execs to build/fuzz-report.md (figures for
#                     docs/benchmarks/fuzz.md)
#
# Both print one line per target and a summary (targets, total execs,
# failures). FUZZ_PKGS="wire p2p" limits them to packages whose path
# contains one of the words, FUZZ_RUN='^FuzzAPI$' to targets matching a
# regexp (both are read from the environment). Failing inputs land in the package's
# testdata/fuzz/<target>/ as with go test; check them in with the fix.

FUZZ_SMOKE_TIME   ?= 2s
FUZZ_ALL_TIME     ?= 60s
FUZZ_REPORT_TIME  ?= 30s
FUZZ_PARALLEL     ?= 1

.PHONY: fuzz-smoke fuzz-all fuzz-report

fuzz-smoke:
	FUZZTIME=$(FUZZ_SMOKE_TIME) FUZZPARALLEL=1 FUZZCACHE=tmp GO=$(GO) .ci/fuzz-smoke.sh

fuzz-all:
	FUZZTIME=$(FUZZ_ALL_TIME) FUZZPARALLEL=$(FUZZ_PARALLEL) FUZZMINIMIZE=5s GO=$(GO) .ci/fuzz-smoke.sh

fuzz-report:
	@mkdir -p build
	FUZZTIME=$(FUZZ_REPORT_TIME) FUZZPARALLEL=$(FUZZ_PARALLEL) FUZZCACHE=tmp FUZZ_REPORT=build/fuzz-report.md GO=$(GO) .ci/fuzz-smoke.sh

INTEROP_TARGETS += fuzz-smoke
FUZZ_TARGETS    += fuzz-all

# executor: the wazero sandbox's test fixtures, benchmarks and fuzzing.
#
#   make executor-fixtures   rebuilds executor/testdata/*.wasm from the .wat and
#                            .c sources (wat2wasm, clang --target=wasm32-wasi;
#                            sha256.wasm from examples/functions/sha256/sha256.c);
#                            the built fixtures are checked in, so `go test`
#                            needs neither tool
#   make bench-executor      the issue-2 benchmarks (docs/benchmarks/executor.md),
#                            $(EXECUTOR_BENCHCOUNT) times each: report medians;
#                            needs gcc (native sha256) and Go (wasip1 build);
#                            on a shared machine compare the cpu-ns/op and
#                            compile-cpu-ns/op columns, not ns/op
#   make fuzz-executor       FuzzRun for $(EXECUTOR_FUZZTIME)
#
# .ci/install-wasm-tools.sh installs clang, lld, wasi-libc and wabt from Debian
# when missing (idempotent, fast when present).

EXECUTOR_FUZZTIME  ?= 2m
EXECUTOR_BENCHTIME ?= 3x
EXECUTOR_BENCHCOUNT ?= 5

.PHONY: executor-tools executor-fixtures bench-executor fuzz-executor

executor-tools:
	@.ci/install-wasm-tools.sh

executor-fixtures: executor-tools
	executor/testdata/build.sh

bench-executor:
	$(GO) test -run '^$$' -bench 'CompileGo|SHA256' -benchtime $(EXECUTOR_BENCHTIME) -count $(EXECUTOR_BENCHCOUNT) -timeout 60m ./executor/
	$(GO) test -run '^$$' -bench 'Start|RunsParallel' -benchtime 2000x -count 3 ./executor/

fuzz-executor:
	$(GO) test -run '^$$' -fuzz '^FuzzRun$$' -fuzztime $(EXECUTOR_FUZZTIME) ./executor/

BENCH_TARGETS += bench-executor
FUZZ_TARGETS  += fuzz-executor

.PHONY: fuzz-interrupt
fuzz-interrupt:
	$(GO) test -run '^$$' -fuzz FuzzInstrument -fuzztime $(EXECUTOR_FUZZTIME) ./executor/internal/interrupt/
FUZZ_TARGETS += fuzz-interrupt

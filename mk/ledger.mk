# ledger: long fuzzing of the value decoders, a long SIGKILL crash run, and
# the transition benchmarks. Nothing to install (pure Go, bbolt from go.mod).
#
#   make fuzz-ledger    each decoder fuzz target for LEDGER_FUZZTIME (default 60s)
#   make crash-ledger   TestCrashRecovery with LEDGER_CRASH_ROUNDS (default 300) kills
#   make bench-ledger   BenchmarkTransition & co. (figures: docs/benchmarks/ledger.md)

LEDGER_FUZZTIME     ?= 60s
LEDGER_CRASH_ROUNDS ?= 300
LEDGER_FUZZ         := FuzzDecodeJob FuzzDecodeDeal FuzzDecodeChannel FuzzDecodeVoucherPaymentEvent

.PHONY: fuzz-ledger crash-ledger bench-ledger

fuzz-ledger:
	@for f in $(LEDGER_FUZZ); do \
	  echo "fuzz $$f for $(LEDGER_FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(LEDGER_FUZZTIME) ./ledger/ || exit 1; \
	done

crash-ledger:
	LEDGER_CRASH_ROUNDS=$(LEDGER_CRASH_ROUNDS) $(GO) test -count=1 -timeout 30m -run '^TestCrashRecovery$$' -v ./ledger/

bench-ledger:
	$(GO) test -run '^$$' -bench . -benchtime 3s ./ledger/

FUZZ_TARGETS  += fuzz-ledger crash-ledger
BENCH_TARGETS += bench-ledger

# e2e: multi-process end-to-end and fault tests (tests/e2e). A devnet,
# provider daemons and a client run as separate processes on loopback and
# are driven through the CLI only; the tests read the chain over JSON-RPC
# and check every balance to the wei.
#
#   make e2e        builds bin/cloudless, runs every e2e test in parallel
#                   (crash injection: 20 SIGKILL rounds); part of `make test`
#   make e2e-long   the same with 200 crash rounds (CLOUDLESS_E2E_LONG=1)
#
# The spin module in tests/e2e/testdata is committed; `make e2e-wasm`
# rebuilds it with clang (installed by the executor's toolchain targets).
# Figures of each run are appended to build/e2e-figures.txt.
# The tests wait on deal deadlines rather than compute: -parallel 8 runs
# them side by side even on 2 cores. E2E_SKIP='TestA|TestB' leaves tests out
# (go test -skip), e.g. while a product bug they catch is being fixed.

E2E_FLAGS ?= -count=1 -v -parallel 8
# Nothing is left out: TestProviderKilledMidRun/channel and /retry, skipped
# until the market bugs they caught were fixed, run again (a channel job of
# a killed provider is credited on both sides, a retry's abandoned escrow is
# refunded while the job still runs and the test waits for every deal to
# close: docs/rationale/market-killed.md). Set E2E_SKIP='TestA|TestB/sub'
# to leave tests out while a product bug they catch is being fixed.
E2E_SKIP  ?=
E2E_SKIPFLAG = $(if $(E2E_SKIP),-skip '$(E2E_SKIP)')
E2E_FIGURES := $(CURDIR)/build/e2e-figures.txt

.PHONY: e2e e2e-long e2e-wasm

e2e: build
	@mkdir -p build
	CLOUDLESS_E2E=1 CLOUDLESS_BIN=$(CURDIR)/$(BIN) CLOUDLESS_E2E_FIGURES=$(E2E_FIGURES) \
	  $(GO) test $(E2E_FLAGS) $(E2E_SKIPFLAG) -timeout 15m ./tests/e2e/

e2e-long: build
	@mkdir -p build
	CLOUDLESS_E2E=1 CLOUDLESS_E2E_LONG=1 CLOUDLESS_BIN=$(CURDIR)/$(BIN) CLOUDLESS_E2E_FIGURES=$(E2E_FIGURES) \
	  $(GO) test $(E2E_FLAGS) $(E2E_SKIPFLAG) -timeout 60m ./tests/e2e/

e2e-wasm:
	clang --target=wasm32-wasi --sysroot=/usr -O2 tests/e2e/testdata/spin.c -o tests/e2e/testdata/spin.wasm

INTEROP_TARGETS += e2e

# contracts: Solidity toolchain (solc-js + OpenZeppelin from npm, pinned in
# contracts/package-lock.json), committed artifacts and Go bindings, geth
# interop and the gas report.
#
#   make contracts         npm ci (when needed), compile, regenerate the bindings
#   make contracts-check   rebuild into a temp dir and diff against the committed files
#   make interop-geth      build geth v1.16.7 into ~/.cache/cloudless (idempotent), run the interop test
#   make bench-contracts   regenerate docs/benchmarks/contracts.md (gas report)

CONTRACTS_DIR := contracts
NPM           ?= npm
NODE          ?= node

.PHONY: contracts contracts-deps contracts-check interop-geth bench-contracts

# npm ci only when the lock file changed since the last install.
$(CONTRACTS_DIR)/node_modules/.cloudless-stamp: $(CONTRACTS_DIR)/package.json $(CONTRACTS_DIR)/package-lock.json
	cd $(CONTRACTS_DIR) && $(NPM) ci --no-audit --no-fund
	touch $@

contracts-deps: $(CONTRACTS_DIR)/node_modules/.cloudless-stamp

contracts: contracts-deps
	cd $(CONTRACTS_DIR) && $(NODE) scripts/compile.js artifacts
	cd $(CONTRACTS_DIR) && $(GO) run ./internal/gen -artifacts artifacts -out marketplace_bind.go

contracts-check: contracts-deps
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  (cd $(CONTRACTS_DIR) && $(NODE) scripts/compile.js "$$tmp/artifacts" >/dev/null) && \
	  (cd $(CONTRACTS_DIR) && $(GO) run ./internal/gen -artifacts "$$tmp/artifacts" -out "$$tmp/marketplace_bind.go") && \
	  diff -r $(CONTRACTS_DIR)/artifacts "$$tmp/artifacts" && \
	  diff $(CONTRACTS_DIR)/marketplace_bind.go "$$tmp/marketplace_bind.go" && \
	  echo "contracts-check: committed artifacts and bindings match a fresh build" || \
	  { echo "contracts-check: committed artifacts or bindings differ from a fresh build; run 'make contracts'"; exit 1; }

interop-geth:
	@geth=$$(./.ci/install-geth.sh) && \
	  CLOUDLESS_GETH="$$geth" $(GO) test -count=1 -timeout 5m -run TestGethInterop -v ./$(CONTRACTS_DIR)/

bench-contracts:
	CLOUDLESS_GAS_REPORT=$(CURDIR)/docs/benchmarks/contracts.md $(GO) test -count=1 -run TestGasReport ./$(CONTRACTS_DIR)/
	@cat docs/benchmarks/contracts.md

INTEROP_TARGETS += contracts-check interop-geth
BENCH_TARGETS   += bench-contracts

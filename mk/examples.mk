# Example functions (examples/functions) and the local demo.
#
#   make examples     builds build/examples/{hello,sha256,wordfreq,csvagg,thumbnail,markdown}.wasm
#   make demo-local   runs each example through `cloudless exec` with a short transcript
#   make demo-market  runs `cloudless demo`: a whole local marketplace
#   make demo         $(DEMO_TARGET): demo-market
#   make fuzz-examples fuzzes the thumbnail function's image decoder
#
# C functions need clang, lld and wasi-libc; .ci/install-wasm-tools.sh installs
# them from Debian when missing (idempotent, fast when present). Go functions
# need only the Go toolchain (GOOS=wasip1 GOARCH=wasm).

EXAMPLES_DIR    := build/examples
EXAMPLES_C      := hello sha256
EXAMPLES_GO     := wordfreq csvagg thumbnail markdown
EXAMPLES_WASM   := $(addprefix $(EXAMPLES_DIR)/,$(addsuffix .wasm,$(EXAMPLES_C) $(EXAMPLES_GO)))
WASI_CC         ?= clang
WASI_CFLAGS     ?= --target=wasm32-wasi --sysroot=/usr -O2 -s -Wall -Wextra

DEMO_TARGET ?= demo-market

.PHONY: examples examples-tools demo demo-local demo-market
examples: $(EXAMPLES_WASM)

# Runs every time (a few `command -v` checks); installs only what is missing.
examples-tools:
	@.ci/install-wasm-tools.sh

# One explicit rule per example. The tools are an order-only prerequisite:
# installing them does not make the modules stale.
define example_c_rule
$(EXAMPLES_DIR)/$(1).wasm: examples/functions/$(1)/$(1).c | examples-tools
	@mkdir -p $(EXAMPLES_DIR)
	$$(WASI_CC) $$(WASI_CFLAGS) -o $$@ $$<
endef

# Go functions are rebuilt when any of their .go files change.
define example_go_rule
$(EXAMPLES_DIR)/$(1).wasm: $(wildcard examples/functions/$(1)/*.go)
	@mkdir -p $(EXAMPLES_DIR)
	GOOS=wasip1 GOARCH=wasm $$(GO) build -trimpath -o $$@ ./examples/functions/$(1)
endef

$(foreach e,$(EXAMPLES_C),$(eval $(call example_c_rule,$(e))))
$(foreach e,$(EXAMPLES_GO),$(eval $(call example_go_rule,$(e))))

demo: $(DEMO_TARGET)

demo-local: build examples
	@examples/demo-local.sh $(BIN) $(EXAMPLES_DIR)

# The marketplace demo: dev chain, three providers, a client, real jobs in
# both pay modes, redundancy 2 and a hostile module (cmd/cloudless/demo.go).
# It exits non-zero when a step does not behave as designed.
demo-market: build examples
	$(BIN) demo --examples $(EXAMPLES_DIR)

# The example tests (examples/functions, cmd/cloudless exec tests) use the
# built modules; they also build them on their own when these are missing.
TEST_DEPS += examples

# The thumbnail function parses images (PPM by hand): fuzz its decoder. The
# seed corpus runs in every `go test`.
EXAMPLES_FUZZTIME ?= 1m
.PHONY: fuzz-examples
fuzz-examples:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(EXAMPLES_FUZZTIME) ./examples/functions/thumbnail
FUZZ_TARGETS += fuzz-examples

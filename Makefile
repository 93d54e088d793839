# cloudless — build, test, demo, bench.
#
# Quickstart on a fresh machine:  make demo   then   make test
# Everything the tests need (clang, lld, wasi-libc, wabt, chromium, kubo, geth)
# is installed by the targets below when missing, idempotently.

GO        ?= go
BIN       := bin/cloudless
GOFLAGS   ?=
export GOFLAGS

# Packages whose tests run again under the race detector in `make test`.
RACE_PKGS ?= ./executor/... ./p2p/... ./market/... ./ledger/... ./storage/... ./node/...

# Hooks the part fragments in mk/*.mk append to.
TEST_DEPS       :=
INTEROP_TARGETS :=
BENCH_TARGETS   :=
FUZZ_TARGETS    :=

.PHONY: all build test unit race lint demo bench examples fuzz interop tools clean
all: build

-include mk/*.mk

build:
	$(GO) build -o $(BIN) ./cmd/cloudless

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

unit: $(TEST_DEPS)
	$(GO) test -count=1 -timeout 20m ./...

race: $(TEST_DEPS)
	$(GO) test -count=1 -race -short -timeout 20m $(RACE_PKGS)

# The interop targets run two at a time: the end-to-end and load tests
# mostly wait on deal deadlines and blocks, so they overlap well with the
# builds of kubo, geth and the fuzzing binaries. Each target's output is
# printed whole when it ends (--output-sync).
INTEROP_JOBS ?= 2

interop:
	$(MAKE) -j$(INTEROP_JOBS) --output-sync=target $(INTEROP_TARGETS)

test: lint unit race interop

bench: $(BENCH_TARGETS)

fuzz: $(FUZZ_TARGETS)

clean:
	rm -rf bin build

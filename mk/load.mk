# load: the marketplace under load (issue 8, "Proof under fire").
# Five client and five provider daemons (node.Start, libp2p on loopback,
# boxo, wazero) on one in-process dev chain; jobs paid through channels;
# then an audit of every job and every wei. Nothing to install: the job is
# the checked-in tests/load/testdata/hello.wasm.
#
#   make load-smoke   5 clients × 40 jobs (≈ 30 s); part of `make test` (interop)
#   make load         5 clients × 2,000 jobs; report in build/load/full.json
#
# Sizes: LOAD_CLIENTS, LOAD_PROVIDERS, LOAD_JOBS (per client), LOAD_INFLIGHT
# (per client), LOAD_SLOTS (provider max_concurrent). LOAD_LOG=FILE keeps
# the daemons' logs.

LOAD_CLIENTS   ?= 5
LOAD_PROVIDERS ?= 5
LOAD_JOBS      ?= 2000
LOAD_INFLIGHT  ?= 16
LOAD_SLOTS     ?= 32
LOAD_LOG       ?=

.PHONY: load load-smoke

load-smoke:
	CLOUDLESS_LOAD=1 CLOUDLESS_LOAD_CLIENTS=5 CLOUDLESS_LOAD_PROVIDERS=5 CLOUDLESS_LOAD_JOBS=40 \
	  CLOUDLESS_LOAD_INFLIGHT=$(LOAD_INFLIGHT) CLOUDLESS_LOAD_SLOTS=$(LOAD_SLOTS) \
	  CLOUDLESS_LOAD_OUT=$(CURDIR)/build/load/smoke.json CLOUDLESS_LOAD_LOG=$(LOAD_LOG) \
	  $(GO) test -count=1 -timeout 5m -run '^TestLoad$$' -v ./tests/load/

load:
	CLOUDLESS_LOAD=1 CLOUDLESS_LOAD_CLIENTS=$(LOAD_CLIENTS) CLOUDLESS_LOAD_PROVIDERS=$(LOAD_PROVIDERS) \
	  CLOUDLESS_LOAD_JOBS=$(LOAD_JOBS) CLOUDLESS_LOAD_INFLIGHT=$(LOAD_INFLIGHT) CLOUDLESS_LOAD_SLOTS=$(LOAD_SLOTS) \
	  CLOUDLESS_LOAD_OUT=$(CURDIR)/build/load/full.json CLOUDLESS_LOAD_LOG=$(LOAD_LOG) \
	  $(GO) test -count=1 -timeout 180m -run '^TestLoad$$' -v ./tests/load/

INTEROP_TARGETS += load-smoke

# p2p and market/wire: propagation benchmark and long fuzzing.
#
#   make bench-p2p   offer propagation to 99% of N=100 and N=500 simulated
#                    nodes (mocknet, 20 ms links); figures go to docs/benchmarks/p2p.md
#   make fuzz-p2p    fuzz every wire decoder and the frame reader
#                    (FUZZTIME per target, default 60s)
# Nothing to install: everything is Go.

FUZZTIME ?= 60s
P2P_FUZZ_WIRE := FuzzOpen FuzzParseJobSpec FuzzOffer FuzzJobRequest FuzzBid FuzzAward FuzzResult FuzzCancel

.PHONY: bench-p2p fuzz-p2p

bench-p2p:
	$(GO) test ./p2p -run '^$$' -bench OfferPropagation -benchtime 10x -timeout 30m

fuzz-p2p:
	@set -e; for f in $(P2P_FUZZ_WIRE); do \
	  $(GO) test ./market/wire -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME); \
	done
	$(GO) test ./p2p -run '^$$' -fuzz '^FuzzReadFrame$$' -fuzztime $(FUZZTIME)

BENCH_TARGETS += bench-p2p
FUZZ_TARGETS += fuzz-p2p

# Mediation (market/wire/mediate.go): long fuzzing of the case and reply
# decoders. The seed corpus runs in every `go test ./market/wire`.
#
#   make fuzz-mediate   FUZZTIME per target (default 60s)

FUZZTIME ?= 60s
MEDIATE_FUZZ := FuzzMediationCase FuzzMediationReply

.PHONY: fuzz-mediate

fuzz-mediate:
	@set -e; for f in $(MEDIATE_FUZZ); do \
	  $(GO) test ./market/wire -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME); \
	done

FUZZ_TARGETS += fuzz-mediate

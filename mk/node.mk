# node: the daemon, control API and dashboard.
#
#   make test-ui     dashboard test in a real headless Chromium (installs
#                    Debian's chromium with .ci/install-chromium.sh if missing)
#   make test-node   the node package and the CLI tests (daemon as a child process)

CHROMIUM ?= /usr/bin/chromium

.PHONY: test-ui test-node chromium

chromium:
	./.ci/install-chromium.sh

test-ui: chromium
	CLOUDLESS_CHROMIUM=$(CHROMIUM) $(GO) test -count=1 -run 'TestDashboard' -v ./node/

test-node:
	$(GO) test -count=1 ./node/... ./cmd/cloudless/

INTEROP_TARGETS += test-ui

#!/usr/bin/env bash
# Builds kubo (the reference IPFS implementation) at a pinned version into a
# cache outside the tree, idempotently: $HOME/.cache/cloudless/kubo-$KUBO_VERSION/ipfs
# is printed on stdout. A cold build takes several minutes on 2 cores.
set -euo pipefail
KUBO_VERSION="${KUBO_VERSION:-v0.41.0}"
exec "$(dirname "$0")/install-go-binary.sh" kubo ipfs github.com/ipfs/kubo "$KUBO_VERSION" ./cmd/ipfs

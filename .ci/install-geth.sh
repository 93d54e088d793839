#!/usr/bin/env bash
# Builds go-ethereum's geth at a pinned version into a cache outside the tree,
# idempotently: $HOME/.cache/cloudless/geth-$GETH_VERSION/geth is printed on stdout.
set -euo pipefail
GETH_VERSION="${GETH_VERSION:-v1.16.7}"
exec "$(dirname "$0")/install-go-binary.sh" geth geth github.com/ethereum/go-ethereum "$GETH_VERSION" ./cmd/geth

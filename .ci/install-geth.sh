#!/usr/bin/env bash
# Builds go-ethereum's geth at a pinned version into a cache outside the tree,
# idempotently: $HOME/.cache/cloudless/geth-$GETH_VERSION/geth.
# Prints the binary's path on stdout. The module comes from the Go module
# proxy (go mod download); it is built in a writable copy with its own go.sum.
set -euo pipefail
GETH_VERSION="${GETH_VERSION:-v1.16.7}"
GO="${GO:-go}"
dest="${HOME}/.cache/cloudless/geth-${GETH_VERSION}"
bin="${dest}/geth"
if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "${GETH_VERSION#v}"; then
  echo "$bin"
  exit 0
fi
mkdir -p "$dest"
modjson=$(cd "$dest" && GOFLAGS=-mod=mod "$GO" mod download -json "github.com/ethereum/go-ethereum@${GETH_VERSION}")
moddir=$(printf '%s\n' "$modjson" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$moddir" ] || [ ! -d "$moddir" ]; then
  echo "install-geth: go mod download gave no module dir" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -r "$moddir" "$work/src"
chmod -R u+w "$work/src"
(cd "$work/src" && GOFLAGS=-mod=mod GOWORK=off "$GO" build -trimpath -o "$bin.tmp" ./cmd/geth)
mv "$bin.tmp" "$bin"
"$bin" version >/dev/null
echo "$bin"

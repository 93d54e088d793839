#!/usr/bin/env bash
# Builds kubo (the reference IPFS implementation) at a pinned version into a
# cache outside the tree, idempotently: $HOME/.cache/cloudless/kubo-$KUBO_VERSION/ipfs.
# Prints the binary's path on stdout. The module comes from the Go module
# proxy (go mod download); `go install ...@version` is refused for kubo here, so
# it is built in a writable copy of the module dir with kubo's own go.sum.
# A cold build takes several minutes on 2 cores.
set -euo pipefail
KUBO_VERSION="${KUBO_VERSION:-v0.41.0}"
GO="${GO:-go}"
dest="${HOME}/.cache/cloudless/kubo-${KUBO_VERSION}"
bin="${dest}/ipfs"
if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "${KUBO_VERSION#v}"; then
  echo "$bin"
  exit 0
fi
mkdir -p "$dest"
modjson=$(cd "$dest" && GOFLAGS=-mod=mod GOWORK=off "$GO" mod download -json "github.com/ipfs/kubo@${KUBO_VERSION}")
moddir=$(printf '%s\n' "$modjson" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$moddir" ] || [ ! -d "$moddir" ]; then
  echo "install-kubo: go mod download gave no module dir" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -r "$moddir" "$work/src"
chmod -R u+w "$work/src"
(cd "$work/src" && GOFLAGS=-mod=mod GOWORK=off "$GO" build -trimpath -o "$bin.tmp" ./cmd/ipfs)
mv "$bin.tmp" "$bin"
"$bin" version >/dev/null
echo "$bin"

#!/usr/bin/env bash
# install-go-binary.sh NAME BINARY MODULE VERSION PACKAGE
#
# Builds PACKAGE of the Go module MODULE at VERSION into a cache outside the
# tree, idempotently: $HOME/.cache/cloudless/NAME-VERSION/BINARY, and prints
# the binary's path on stdout. The module comes from the Go module proxy (go
# mod download); `go install ...@version` is refused for some modules here, so
# it is built in a writable copy of the module dir with the module's own go.sum.
# Used by install-kubo.sh and install-geth.sh.
set -euo pipefail
name="$1" binary="$2" module="$3" version="$4" pkg="$5"
GO="${GO:-go}"
dest="${HOME}/.cache/cloudless/${name}-${version}"
bin="${dest}/${binary}"
if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "${version#v}"; then
  echo "$bin"
  exit 0
fi
mkdir -p "$dest"
modjson=$(cd "$dest" && GOFLAGS=-mod=mod GOWORK=off "$GO" mod download -json "${module}@${version}")
moddir=$(printf '%s\n' "$modjson" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$moddir" ] || [ ! -d "$moddir" ]; then
  echo "install-${name}: go mod download gave no module dir" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
cp -r "$moddir" "$work/src"
chmod -R u+w "$work/src"
(cd "$work/src" && GOFLAGS=-mod=mod GOWORK=off "$GO" build -trimpath -o "$bin.tmp" "$pkg")
mv "$bin.tmp" "$bin"
"$bin" version >/dev/null
echo "$bin"

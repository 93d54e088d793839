#!/bin/sh
# Rebuilds the executor's test fixtures: every *.wat with wat2wasm, every C
# program with clang --target=wasm32-wasi. The built .wasm files are checked
# in, so `go test` does not need these tools; run this (or
# `make executor-fixtures`) after editing a source.
set -eu
cd "$(dirname "$0")"
for w in *.wat; do
	wat2wasm --enable-all --debug-names "$w" -o "${w%.wat}.wasm"
done
for c in tool.c sha256.c; do
	clang --target=wasm32-wasi --sysroot=/usr -O2 -s "$c" -o "${c%.c}.wasm"
done
